export interface AlarmTopicPolicyArgs {
  topic: aws.sns.Topic;
  /** Alarm names that may publish: `*` for any alarm of this account and region. */
  alarmNames: string;
  /** Alarm names that may not, even when `alarmNames` matches them. */
  exceptAlarmNames?: string;
}

/**
 * The one resource policy of a topic CloudWatch alarm actions notify: only CloudWatch, acting for
 * an alarm of this account and region whose name matches, may publish. It replaces SNS's default
 * policy, which lets every principal of the account publish, subscribe and change the topic.
 *
 * What stays trusted: a principal of this account whose own IAM policy allows `sns:Publish` on the
 * topic (in one account, an identity policy's Allow suffices without the resource policy), so
 * grant that to no one but administrators; and anyone allowed `cloudwatch:PutMetricAlarm`, who can
 * make an alarm that fires at will. The README's "Security and trust boundaries" says the same.
 */
export function alarmTopicPolicy(name: string, args: AlarmTopicPolicyArgs) {
  const partition = aws.getPartitionOutput({}).partition;
  const region = aws.getRegionOutput({}).region;
  const account = aws.getCallerIdentityOutput({}).accountId;
  const alarmArn = (names: string) =>
    $interpolate`arn:${partition}:cloudwatch:${region}:${account}:alarm:${names}`;
  return new aws.sns.TopicPolicy(name, {
    arn: args.topic.arn,
    policy: $jsonStringify({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "CloudWatchAlarmsOnly",
          Effect: "Allow",
          Principal: { Service: "cloudwatch.amazonaws.com" },
          Action: "sns:Publish",
          Resource: args.topic.arn,
          Condition: {
            StringEquals: { "aws:SourceAccount": account },
            ArnLike: { "aws:SourceArn": alarmArn(args.alarmNames) },
            ...(args.exceptAlarmNames
              ? { ArnNotLike: { "aws:SourceArn": alarmArn(args.exceptAlarmNames) } }
              : {}),
          },
        },
      ],
    }),
  });
}
