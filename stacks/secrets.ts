import { sstSecretName } from "@firebreak/core";
import type { FirebreakFunctionArgs } from "./lambda";
import type { DeployOptions } from "./options";

/**
 * Secrets live in SSM Parameter Store as SecureString parameters, one path per stage
 * (`/firebreak/prod/ApiTokens`), put there by operators (`aws ssm put-parameter`), never by the
 * deploy: their values are in no template, no Pulumi state, no bundle and no function
 * configuration. A function gets the path in `SECRETS_PATH` and reads at cold start
 * (functions/lib/secrets.ts) with a role allowed `ssm:GetParameter` on exactly the parameters it
 * uses.
 *
 * Why not SST's secrets: SST 4 encrypts linked values into the bundle's `resource.enc` and puts
 * the key in the function's environment (`SST_KEY`), so whoever may call `lambda:GetFunction`
 * (the code's download URL and the environment) can decrypt every secret the function links.
 */
export interface StageSecrets {
  /** `/<app>/<stage>`: the value of `SECRETS_PATH`. */
  path: string;
  /** The parameter holding a secret, by its environment name (`API_TOKENS`). */
  parameterName(envName: string): string;
  /** What a function that reads these secrets needs: the path, and the grants for them only. */
  access(
    envNames: ReadonlyArray<string>,
  ): Required<Pick<FirebreakFunctionArgs, "environment" | "permissions">>;
}

export function stageSecrets(options: DeployOptions): StageSecrets {
  const path = `/${$app.name}/${$app.stage}`;
  const parameterName = (envName: string) => `${path}/${sstSecretName(envName)}`;
  const partition = aws.getPartitionOutput({}).partition;
  const region = aws.getRegionOutput({}).region;
  const account = aws.getCallerIdentityOutput({}).accountId;
  return {
    path,
    parameterName,
    access: (envNames) => {
      // A parameter's ARN is `parameter` followed by its name, whose leading slash it keeps.
      const arns = envNames.map(
        (envName) =>
          $interpolate`arn:${partition}:ssm:${region}:${account}:parameter${parameterName(envName)}`,
      );
      const kmsKeyArn = options.secrets.kmsKeyArn;
      return {
        environment: { SECRETS_PATH: path },
        permissions: [
          // GetParameter only: not GetParameters or GetParametersByPath, which would read by
          // listing; the reader asks for each parameter by name.
          { actions: ["ssm:GetParameter"], resources: arns },
          // The AWS managed key (aws/ssm) lets every principal of the account decrypt through
          // SSM by its key policy: ssm:GetParameter above is then the whole control. A customer
          // managed key also needs the role's kms:Decrypt, and only through SSM.
          ...(kmsKeyArn
            ? [
                {
                  actions: ["kms:Decrypt"],
                  resources: [kmsKeyArn],
                  conditions: [
                    {
                      test: "StringEquals",
                      variable: "kms:ViaService",
                      values: [$interpolate`ssm.${region}.amazonaws.com`],
                    },
                  ],
                },
              ]
            : []),
        ],
      };
    },
  };
}
