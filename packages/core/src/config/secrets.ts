/**
 * The SST secret that carries an environment-style secret name in AWS:
 * `PAGERDUTY_ONCALL_KEY` → `PagerdutyOncallKey` (SST secret names are PascalCase words). The
 * stacks create secrets under these names and the functions read them back the same way.
 */
export const sstSecretName = (envName: string) =>
  envName
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .map((word) => word[0]?.toUpperCase() + word.slice(1))
    .join("");
