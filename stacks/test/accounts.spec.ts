import { defineConfig } from "@firebreak/core";
import { beforeAll, describe, expect, test } from "vitest";
import { firebreak } from "../index";
import { ACCOUNT, REGION, type Synth, statementsOf, synth } from "./harness";

const MEMBER_ROLES = [
  "arn:aws:iam::111122223333:role/firebreak-remediation",
  "arn:aws:iam::444455556666:role/firebreak-remediation",
];

const config = defineConfig({
  responders: "anyone",
  rules: [
    {
      name: "checkout",
      match: { source: "cloudwatch", alarmName: "checkout-*" },
      severity: "critical",
      actions: [
        {
          type: "scale",
          target: { kind: "ecs-service", cluster: "prod", service: "checkout" },
          by: 2,
          max: 10,
        },
      ],
    },
  ],
  accounts: {
    "111122223333": { roleArn: MEMBER_ROLES[0] as string, externalId: "firebreak-prod" },
    "444455556666": { roleArn: MEMBER_ROLES[1] as string },
  },
});

// One synth per file: Pulumi's runtime is global to the process.
let organization: Synth;
beforeAll(async () => {
  organization = await synth(
    async () =>
      firebreak({
        config,
        configOrigin: "test config",
        options: { console: false, organizationId: "o-a1b2c3d4e5" },
      }).outputs,
    { stage: "staging" },
  );
  // Bundling every function on a busy machine can take minutes; nothing here waits on a clock.
}, 600_000);

const grants = (s: Synth, role: string, prefix: string) =>
  statementsOf(s.named("aws:iam/role:Role", role)).flatMap((statement) =>
    statement.Action.filter((action) => action.startsWith(prefix)).map(
      (action) => `${action} ${[...statement.Resource].sort().join(" ")}`,
    ),
  );

describe("member accounts", () => {
  test("the dispatcher, the sweep and the API may assume exactly the configured roles, and no other function any", () => {
    const assume = `sts:AssumeRole ${MEMBER_ROLES.join(" ")}`;
    expect(grants(organization, "DispatchRole", "sts:")).toEqual([assume]);
    expect(grants(organization, "EscalationsRole", "sts:")).toEqual([assume]);
    expect(grants(organization, "ApiRole", "sts:")).toEqual([assume]);
    for (const role of ["IngestRole", "ProcessRole", "SlackRole", "SentryWebhookRole"]) {
      expect(grants(organization, role, "sts:")).toEqual([]);
    }
  });

  test("the sweep reads its own region's alarm states, the API their metrics too", () => {
    expect(grants(organization, "EscalationsRole", "cloudwatch:")).toEqual([
      `cloudwatch:DescribeAlarms arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:*`,
    ]);
    expect(grants(organization, "DispatchRole", "cloudwatch:")).toEqual([]);
    // The API reads metrics too; GetMetricData has no resource type to narrow it to.
    expect(grants(organization, "ApiRole", "cloudwatch:")).toEqual([
      `cloudwatch:DescribeAlarms arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:*`,
      "cloudwatch:GetMetricData *",
    ]);
  });

  test("the organization's accounts may put events on the default bus", () => {
    const policies = organization.resources.filter(
      (resource) => resource.type === "aws:cloudwatch/eventBusPolicy:EventBusPolicy",
    );
    expect(policies).toHaveLength(1);
    expect(policies[0]?.inputs.eventBusName).toBe("default");
    expect(JSON.parse(policies[0]?.inputs.policy)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "OrganizationPutEvents",
          Effect: "Allow",
          Principal: "*",
          Action: "events:PutEvents",
          Resource: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/default`,
          Condition: { StringEquals: { "aws:PrincipalOrgID": "o-a1b2c3d4e5" } },
        },
      ],
    });
  });

  test("each member account's role is in the outputs: trust with its ExternalId, exactly the remediation and alarm reads there", () => {
    const roles = organization.outputs.memberAccountRoles as Record<
      string,
      { roleArn: string; trustPolicy: unknown; permissionsPolicy: { Statement: unknown[] } }
    >;
    expect(Object.keys(roles)).toEqual(["111122223333", "444455556666"]);
    expect(roles["111122223333"]?.trustPolicy).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
          Action: "sts:AssumeRole",
          Condition: { StringEquals: { "sts:ExternalId": "firebreak-prod" } },
        },
      ],
    });
    // No ExternalId configured: no condition on it.
    expect(JSON.stringify(roles["444455556666"]?.trustPolicy)).not.toContain("ExternalId");
    expect(roles["444455556666"]?.permissionsPolicy.Statement).toContainEqual({
      Effect: "Allow",
      Action: ["ecs:DescribeServices", "ecs:UpdateService"],
      Resource: [`arn:aws:ecs:${REGION}:444455556666:service/prod/checkout`],
    });
    expect(roles["444455556666"]?.permissionsPolicy.Statement).toContainEqual({
      Effect: "Allow",
      Action: ["cloudwatch:DescribeAlarms"],
      Resource: [`arn:aws:cloudwatch:${REGION}:444455556666:alarm:*`],
    });
  });
});
