import type {
  AsffFinding,
  AsffSeverityLabel,
  GuardDutyFindingEvent,
  SecurityHubFindingsEvent,
} from "@firebreak/events";
import { severityLabelOf } from "@firebreak/events";
import type { Severity } from "../severity";
import { clip, MAX_DETAIL, MAX_TITLE, type Signal } from "../signal";
import { awsConsoleUrl } from "./aws-console";
import { shortHash } from "./fingerprint";
import { displaySafe } from "./text";
import { canonicalTime } from "./time";

/**
 * GuardDuty's bands (user guide, "Severity levels for GuardDuty findings"): high (7.0-8.9) and
 * critical (9.0-10.0) need action now; medium (4.0-6.9) is suspicious activity to look into;
 * low (below 4.0) was attempted and blocked.
 *
 * @example
 * guardDutySeverity(8) // "critical"
 * guardDutySeverity(5) // "warning"
 */
export function guardDutySeverity(score: number): Severity {
  if (score >= 7) return "critical";
  if (score >= 4) return "warning";
  return "info";
}

/** ASFF labels: CRITICAL and HIGH page, MEDIUM warns, LOW and INFORMATIONAL inform. */
export const ASFF_SEVERITY: Record<AsffSeverityLabel, Severity> = {
  CRITICAL: "critical",
  HIGH: "critical",
  MEDIUM: "warning",
  LOW: "info",
  INFORMATIONAL: "info",
};

/**
 * One GuardDuty finding, wherever it is seen (directly, or imported into Security Hub), is one
 * fingerprint: the account and region it was found in and its id. Its updates are repeats.
 */
export const guardDutyFingerprint = (account: string, region: string, findingId: string) =>
  `security:guardduty:${account}:${region}:${findingId}`;

/** A Security Hub finding is identified by its product and its `Id` (ASFF, "Id"). */
export const securityHubFingerprint = (account: string, productArn: string, findingId: string) =>
  `security:securityhub:${account}:${shortHash(productArn)}:${findingId}`;

const GUARDDUTY_FINDING_ARN =
  /^arn:aws[a-z-]*:guardduty:([a-z0-9-]+):(\d{12}):detector\/[^/]+\/finding\/([A-Za-z0-9_-]+)$/;

/**
 * The fingerprint of the GuardDuty finding an ASFF `Id` names
 * (`arn:aws:guardduty:<region>:<account>:detector/<detector>/finding/<id>`), or null.
 */
function guardDutyFingerprintOf(asffId: string): string | null {
  const [, region, account, id] = GUARDDUTY_FINDING_ARN.exec(asffId) ?? [];
  return region && account && id ? guardDutyFingerprint(account, region, id) : null;
}

/**
 * A GuardDuty finding event. Its own severity is the default severity (rules still override);
 * `service.archived` recovers it. The delivery id is the finding's state (id, `updatedAt`,
 * `service.count`), not the envelope: the same state seen twice (a retry, a second bus) counts
 * once, and each update is a repeat of the same fingerprint.
 */
export function signalFromGuardDuty(event: GuardDutyFindingEvent): Signal {
  const finding = event.detail;
  const account = finding.accountId;
  const region = finding.region;
  const count = finding.service?.count ?? 1;
  const archived = finding.service?.archived === true;
  const title = finding.title && finding.title !== finding.type ? finding.title : "";
  const url = awsConsoleUrl(
    region,
    "guardduty/home",
    `/findings?macro=current&fId=${encodeURIComponent(finding.id)}`,
  );
  const updatedAt = canonicalTime(finding.updatedAt);
  return displaySafe({
    source: "security",
    kind: archived ? "recovery" : "trigger",
    deliveryId: `guardduty:${shortHash([account, region, finding.id, updatedAt, count, archived].join("\n"))}`,
    fingerprint: guardDutyFingerprint(account, region, finding.id),
    title: clip(title ? `${finding.type}: ${title}` : finding.type, MAX_TITLE),
    at: updatedAt,
    attributes: {
      account,
      region,
      findingType: finding.type,
      message: clip(title || finding.type, MAX_DETAIL),
    },
    suggestedSeverity: guardDutySeverity(finding.severity),
    link: {
      label: clip(`GuardDuty finding ${finding.id}`, MAX_TITLE),
      arn: finding.arn,
      ...(url ? { url } : {}),
    },
    detail: clip(
      `Severity ${finding.severity}${archived ? ", archived" : ""}, seen ${count} ${count === 1 ? "time" : "times"}${finding.resource.resourceType ? ` on ${finding.resource.resourceType}` : ""}: ${finding.description ?? finding.type}`,
      MAX_DETAIL,
    ),
  });
}

function signalFromAsff(finding: AsffFinding, event: SecurityHubFindingsEvent): Signal {
  const account = finding.AwsAccountId;
  const region = finding.Region ?? event.region;
  const label = finding.Severity.Label ?? severityLabelOf(finding.Severity.Normalized ?? 0);
  const workflow = finding.Workflow?.Status ?? "NEW";
  const record = finding.RecordState ?? "ACTIVE";
  const closed = workflow === "RESOLVED" || workflow === "SUPPRESSED" || record === "ARCHIVED";
  // A GuardDuty finding imported into Security Hub is the finding GuardDuty sent itself: one
  // fingerprint, so enabling both rules does not open two incidents for one threat.
  const fingerprint =
    guardDutyFingerprintOf(finding.Id) ??
    securityHubFingerprint(account, finding.ProductArn, finding.Id);
  const url = awsConsoleUrl(region, "securityhub/home", "/findings");
  const updatedAt = canonicalTime(finding.UpdatedAt);
  const findingType = finding.Types[0];
  return displaySafe({
    source: "security",
    kind: closed ? "recovery" : "trigger",
    deliveryId: `securityhub:${shortHash([finding.ProductArn, finding.Id, updatedAt, workflow, record].join("\n"))}`,
    fingerprint,
    title: clip(finding.Title, MAX_TITLE),
    at: updatedAt,
    attributes: {
      account,
      region,
      ...(findingType ? { findingType } : {}),
      message: clip(finding.Title, MAX_DETAIL),
    },
    suggestedSeverity: ASFF_SEVERITY[label],
    link: {
      label: clip(`Security Hub finding ${finding.Title}`, MAX_TITLE),
      ...(finding.Id.startsWith("arn:") ? { arn: finding.Id } : {}),
      ...(url ? { url } : {}),
    },
    detail: clip(
      `${label}, workflow ${workflow}, record ${record}: ${finding.Description}`,
      MAX_DETAIL,
    ),
  });
}

/** One signal per finding of a "Security Hub Findings - Imported" event (bounded by its schema). */
export function signalsFromSecurityHub(event: SecurityHubFindingsEvent): Signal[] {
  return event.detail.findings.map((finding) => signalFromAsff(finding, event));
}
