/**
 * EventBridge content filtering, as AWS applies it to EventBridge rule patterns and to Lambda
 * event-source filter criteria (both run aws/event-ruler). The local stack evaluates deployed
 * patterns with it, so that a pattern which never matches in AWS never matches locally either.
 *
 * The model, after event-ruler:
 * - the event is flattened into leaf fields: a dotted path, a value (string, number, boolean or
 *   null) and the array elements the value sits in. Objects and arrays are never leaves, so
 *   `exists` only ever sees leaf values;
 * - a pattern compiles into sub-rules, one per `$or` branch, each mapping dotted paths to matchers;
 * - a sub-rule matches when every path has a field one of its matchers accepts (or, for
 *   `exists: false`, no field at all), every field taken from the same element of any array two of
 *   them share ("array consistency"). Paths are tried in sorted order, as event-ruler's machine
 *   walks them, which decides the rare `exists: false` inside an array of objects.
 */

type Leaf = string | number | boolean | null;

/** One entry of a pattern field's array: a literal, or an operator object such as `{ prefix: "eu-" }`. */
export type PatternMatcher = Leaf | { readonly [operator: string]: unknown };

/** An EventBridge event pattern (also the `Pattern` of a Lambda filter, once parsed). */
export interface EventPattern {
  readonly [field: string]: EventPattern | ReadonlyArray<PatternMatcher>;
}

/** A pattern AWS would refuse; `path` names the offending part, e.g. `detail.state[0]`. */
export class InvalidPatternError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`Invalid event pattern at ${path || "its root"}: ${reason}`);
    this.name = "InvalidPatternError";
  }
}

/** Lambda's default quota of filters per event source mapping. */
export const MAX_FILTERS_PER_EVENT_SOURCE = 5;
/** Lambda's length limit of one filter's `Pattern` string (API reference, `Filter`). */
export const MAX_FILTER_PATTERN_LENGTH = 4096;

/**
 * Whether `event` matches `pattern`, with EventBridge semantics: values match as typed in JSON
 * (the pattern `"1"` never matches the number 1), `numeric` only matches JSON numbers, an array in
 * the event matches when one of its elements does. Throws {@link InvalidPatternError} on a pattern
 * AWS would refuse, and a TypeError when the event is not a JSON object.
 *
 * @example
 * matchesPattern({ detail: { state: [{ "anything-but": "initializing" }] } },
 *   { detail: { state: "running" } }); // true
 */
export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return compiledMatches(compiledPatternOf(pattern), event);
}

/**
 * A matcher for several patterns (ORed), compiled once: the event is flattened once per call and
 * only along the paths the patterns name. What a rule table of EventBridge matches per event.
 * Throws {@link InvalidPatternError} at once on a pattern AWS would refuse.
 *
 * @example
 * const delivered = anyPatternMatcher(Object.values(rules).map((rule) => rule.pattern));
 * delivered({ source: "aws.cloudwatch", "detail-type": "CloudWatch Alarm State Change" });
 */
export function anyPatternMatcher(
  patterns: ReadonlyArray<EventPattern>,
): (event: unknown) => boolean {
  const compiled = mergeCompiled(patterns.map((pattern) => compilePattern(pattern, "")));
  return (event) => compiledMatches(compiled, event);
}

/**
 * Throws an {@link InvalidPatternError} naming the bad path when AWS would refuse `pattern`: a
 * field that is neither a non-empty array nor a non-empty object, an unknown operator, a `numeric`
 * with a non-number operand or an empty range, a malformed `wildcard` or `cidr`, an `$or` with
 * fewer than two objects.
 */
export function validatePattern(pattern: unknown): void {
  compilePattern(pattern, "");
}

/**
 * Lambda event filtering: whether `record` passes an event source's filter criteria, that is
 * whether any of the `Pattern` strings matches it (they are ORed). No filter at all lets every
 * record through. Throws when there are more than {@link MAX_FILTERS_PER_EVENT_SOURCE} filters or
 * one is not a valid pattern, as CreateEventSourceMapping would.
 *
 * Pass what Lambda matches: {@link sqsFilterView} of an SQS record; a DynamoDB stream record as it
 * is (Lambda's guide says DynamoDB mappings filter on the `dynamodb` key, whose images are DynamoDB
 * JSON with every number a string, so `numeric` never matches them; AWS's CDK guide also filters on
 * `eventName`, so the record's metadata stays in view).
 *
 * What the caller does with a record that does not pass is AWS's rule too: an SQS message is
 * deleted from the queue without reaching the function (report nothing, no retry); a stream
 * record is skipped, the iterator moves past it.
 *
 * @example
 * matchesAnyFilter(['{"dynamodb":{"NewImage":{"status":{"S":["PENDING"]}}}}'], streamRecord);
 */
export function matchesAnyFilter(patterns: ReadonlyArray<string>, record: unknown): boolean {
  if (patterns.length > MAX_FILTERS_PER_EVENT_SOURCE) {
    throw new InvalidPatternError(
      "filters",
      `${patterns.length} filters, more than the ${MAX_FILTERS_PER_EVENT_SOURCE} an event source takes`,
    );
  }
  if (patterns.length === 0) return true;
  const compiled = patterns.map((text, index) => compiledFilterOf(text, `filters[${index}]`));
  return compiledMatches(mergeCompiled(compiled), record);
}

/**
 * What a Lambda filter sees of an SQS record: the record with its `body` parsed when the body is
 * a JSON object or array, and left a string otherwise. So a pattern on body properties never
 * matches a plain-text body, and a pattern of plain strings on `body` (`{"body": ["ping"]}`)
 * matches a plain-text body exactly, never a JSON one, as Lambda's table of body formats says.
 * That table does not say where a bare JSON scalar (`42`, `"x"`) falls; it stays text here.
 */
export function sqsFilterView<R extends { readonly body: string }>(
  record: R,
): Omit<R, "body"> & { readonly body: unknown } {
  return { ...record, body: parseJsonBody(record.body) };
}

function parseJsonBody(body: string): unknown {
  try {
    const parsed: unknown = JSON.parse(body);
    return typeof parsed === "object" && parsed !== null ? parsed : body;
  } catch {
    return body;
  }
}

// ---- Compiled patterns, kept -----------------------------------------------------------------------

/**
 * Sub-rules with their steps in the order they are tried, and every dotted path (and parent path)
 * they name: flattening an event visits only those.
 */
interface Compiled {
  readonly rules: ReadonlyArray<ReadonlyArray<readonly [string, FieldTest]>>;
  readonly paths: ReadonlySet<string>;
}

/** Patterns and filters are few and fixed (a deploy's rules and mappings): each compiles once. */
const MAX_KEPT = 1024;
const compiledPatterns = new WeakMap<object, Compiled>();
const compiledFilters = new Map<string, Compiled>();

function compiledPatternOf(pattern: EventPattern): Compiled {
  const kept = compiledPatterns.get(pattern);
  if (kept) return kept;
  const compiled = compilePattern(pattern, "");
  compiledPatterns.set(pattern, compiled);
  return compiled;
}

function compiledFilterOf(text: string, where: string): Compiled {
  const kept = compiledFilters.get(text);
  if (kept) return kept;
  const compiled = compileFilter(text, where);
  if (compiledFilters.size >= MAX_KEPT) compiledFilters.clear();
  compiledFilters.set(text, compiled);
  return compiled;
}

function mergeCompiled(compiled: ReadonlyArray<Compiled>): Compiled {
  if (compiled.length === 1) return compiled[0] as Compiled;
  return {
    rules: compiled.flatMap((each) => each.rules),
    paths: new Set(compiled.flatMap((each) => [...each.paths])),
  };
}

function compiledOf(rules: ReadonlyArray<SubRule>): Compiled {
  const paths = new Set<string>();
  const ordered = rules.map((rule) => {
    for (const path of rule.keys()) {
      paths.add(path);
      for (let dot = path.indexOf("."); dot >= 0; dot = path.indexOf(".", dot + 1)) {
        paths.add(path.slice(0, dot));
      }
    }
    return [...rule].sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0));
  });
  return { rules: ordered, paths };
}

function compileFilter(text: string, where: string): Compiled {
  if (text.length > MAX_FILTER_PATTERN_LENGTH) {
    throw new InvalidPatternError(where, `longer than ${MAX_FILTER_PATTERN_LENGTH} characters`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new InvalidPatternError(where, `not valid JSON (${reason})`);
  }
  return compilePattern(parsed, where);
}

// ---- Compiling a pattern into sub-rules -------------------------------------------------------

/** The matchers of one field, folded: values it accepts, and whether absence satisfies it. */
interface FieldTest {
  readonly accepts: (value: Leaf) => boolean;
  readonly absentOk: boolean;
}
type SubRule = Map<string, FieldTest>;
type ValueTest = (value: Leaf) => boolean;

/** Operator names event-ruler refuses as field names inside `$or`, keywords reserved included. */
const RESERVED_IN_OR = new Set([
  ...["exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists", "wildcard"],
  ...["numeric", "cidr", "=", "<", "<=", ">", ">=", "regex", "not-wildcard"],
  ...["not-equals-ignore-case", "date-after", "date-on-or-after", "date-before"],
  ...["date-on-or-before", "in-date-range", "ip-address-in-range", "ip-address-not-in-range"],
]);

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function fail(where: string, reason: string): never {
  throw new InvalidPatternError(where, reason);
}

function compilePattern(pattern: unknown, where: string): Compiled {
  if (!isObject(pattern)) fail(where, "a pattern must be a JSON object");
  return compiledOf(compileObject(pattern, [], where, [new Map()], false));
}

function compileObject(
  object: Record<string, unknown>,
  fieldPath: ReadonlyArray<string>,
  where: string,
  rules: SubRule[],
  insideOr: boolean,
): SubRule[] {
  const entries = Object.entries(object);
  if (entries.length === 0) fail(where, "empty objects are not allowed");
  let current = rules;
  for (const [key, value] of entries) {
    const at = where ? `${where}.${key}` : key;
    if (key === "$or") {
      current = compileOr(value, fieldPath, at, current);
    } else if (insideOr && RESERVED_IN_OR.has(key)) {
      fail(at, `"${key}" is reserved and cannot name a field inside $or`);
    } else if (Array.isArray(value)) {
      // event-ruler keys fields by dotted path, and a later definition of a path replaces an
      // earlier one (so `{"a.b": …}` and `{a: {b: …}}` are the same field). Its rule paths skip
      // the dot after an empty parent path, its event paths do not: `{"": {"": [0]}}` names ""
      // while the event `{"": {"": 0}}` holds ".", so they never match, here as there.
      const parent = fieldPath.join(".");
      const test = compileField(value, at);
      for (const rule of current) rule.set(parent ? `${parent}.${key}` : key, test);
    } else if (isObject(value)) {
      current = compileObject(value, [...fieldPath, key], at, current, insideOr);
    } else {
      fail(at, "a field must be an array of matchers or an object");
    }
  }
  return current;
}

function compileOr(
  branches: unknown,
  fieldPath: ReadonlyArray<string>,
  where: string,
  rules: SubRule[],
): SubRule[] {
  if (!Array.isArray(branches)) return fail(where, "$or takes an array of objects");
  if (branches.length < 2) fail(where, "$or needs at least two objects");
  return branches.flatMap((branch, index) => {
    if (!isObject(branch)) return fail(`${where}[${index}]`, "$or takes only objects");
    const copies = rules.map((rule) => new Map(rule));
    return compileObject(branch, fieldPath, `${where}[${index}]`, copies, true);
  });
}

function compileField(matchers: ReadonlyArray<unknown>, where: string): FieldTest {
  if (matchers.length === 0) fail(where, "empty arrays are not allowed");
  const tests: ValueTest[] = [];
  let absentOk = false;
  matchers.forEach((matcher, index) => {
    const at = `${where}[${index}]`;
    if (isObject(matcher)) {
      const test = compileOperator(matcher, at);
      if (test === "absent") absentOk = true;
      else tests.push(test);
    } else if (isLeaf(matcher)) {
      tests.push(exactTest(matcher));
    } else {
      fail(at, "a matcher must be a string, number, boolean, null or an operator object");
    }
  });
  return { accepts: (value) => tests.some((test) => test(value)), absentOk };
}

function isLeaf(value: unknown): value is Leaf {
  return (
    value === null ||
    typeof value === "string" ||
    typeof value === "boolean" ||
    (typeof value === "number" && Number.isFinite(value))
  );
}

function exactTest(expected: Leaf): ValueTest {
  // event-ruler turns a pattern string that is an IP address into an address match, so
  // "10.0.0.1" also matches the same address written another way (IPv6 zeros, case).
  const address = typeof expected === "string" ? parseIp(expected) : undefined;
  if (address) return (value) => typeof value === "string" && sameBytes(parseIp(value), address);
  return (value) => value === expected;
}

function singleKey(object: Record<string, unknown>, where: string): [string, unknown] {
  const entries = Object.entries(object);
  const [entry] = entries;
  if (entries.length !== 1 || !entry)
    return fail(where, "an operator object takes exactly one key");
  return entry;
}

function text(value: unknown, where: string, what: string): string {
  return typeof value === "string" ? value : fail(where, `${what} takes a string`);
}

function compileOperator(object: Record<string, unknown>, where: string): ValueTest | "absent" {
  const [operator, operand] = singleKey(object, where);
  const at = `${where}.${operator}`;
  switch (operator) {
    case "prefix":
    case "suffix": {
      if (isObject(operand)) {
        const [inner, value] = singleKey(operand, at);
        if (inner !== "equals-ignore-case") fail(at, `unsupported ${operator} operator "${inner}"`);
        return foldTest(operator, text(value, at, "equals-ignore-case"));
      }
      return affixTest(operator, text(operand, at, operator));
    }
    case "equals-ignore-case":
      return foldTest("equals", text(operand, at, operator));
    case "wildcard":
      return wildcardTest(parseWildcard(text(operand, at, operator), at));
    case "anything-but":
      return compileAnythingBut(operand, at);
    case "numeric":
      return compileNumeric(operand, at);
    case "exists":
      if (typeof operand !== "boolean") fail(at, "exists takes true or false");
      return operand ? () => true : "absent";
    case "cidr":
      return compileCidr(text(operand, at, operator), at);
    default:
      return fail(where, `unknown operator "${operator}"`);
  }
}

function affixTest(kind: "prefix" | "suffix", affix: string): ValueTest {
  return (value) =>
    typeof value === "string" &&
    (kind === "prefix" ? value.startsWith(affix) : value.endsWith(affix));
}

/** What anything-but can exclude besides plain values; each applies to strings only. */
const exclusions = {
  prefix: (value: string) => affixTest("prefix", value),
  suffix: (value: string) => affixTest("suffix", value),
  "equals-ignore-case": (value: string) => foldTest("equals", value),
  wildcard: (value: string, where: string) => wildcardTest(parseWildcard(value, where)),
};
const isExclusion = (name: string): name is keyof typeof exclusions =>
  Object.hasOwn(exclusions, name);

function compileAnythingBut(operand: unknown, where: string): ValueTest {
  // Whatever it excludes, anything-but lets every value of another type through (anything-but
  // "x" matches the number 5, anything-but 5 matches the string "5"); it never matches absence.
  if (typeof operand === "string" || (typeof operand === "number" && Number.isFinite(operand))) {
    return (value) => value !== operand;
  }
  if (Array.isArray(operand)) {
    if (operand.length === 0) fail(where, "anything-but takes a non-empty list");
    const allStrings = operand.every((item) => typeof item === "string");
    const allNumbers = operand.every((item) => typeof item === "number" && Number.isFinite(item));
    if (!allStrings && !allNumbers)
      fail(where, "anything-but lists hold only strings or only numbers");
    return (value) => !operand.includes(value);
  }
  if (!isObject(operand))
    return fail(where, "anything-but takes a string, a number, a list or an object");
  const [inner, values] = singleKey(operand, where);
  if (!isExclusion(inner)) return fail(where, `unsupported anything-but operator "${inner}"`);
  const at = `${where}.${inner}`;
  const list = Array.isArray(values) ? values : [values];
  if (list.length === 0) fail(at, "takes a non-empty list");
  const excluded = list.map((item, index) => {
    const itemAt = Array.isArray(values) ? `${at}[${index}]` : at;
    const value = text(item, itemAt, inner);
    if ((inner === "prefix" || inner === "suffix") && value === "") {
      fail(itemAt, `an empty ${inner} is not allowed`);
    }
    return exclusions[inner](value, itemAt);
  });
  return (value) => typeof value !== "string" || !excluded.some((test) => test(value));
}

const comparisons = {
  "<": (a: number, b: number) => a < b,
  "<=": (a: number, b: number) => a <= b,
  ">": (a: number, b: number) => a > b,
  ">=": (a: number, b: number) => a >= b,
} as const;
type Comparison = keyof typeof comparisons;
const isComparison = (op: unknown): op is Comparison =>
  typeof op === "string" && Object.hasOwn(comparisons, op);

function compileNumeric(operand: unknown, where: string): ValueTest {
  if (!Array.isArray(operand)) return fail(where, "numeric takes an array");
  const terms: unknown[] = operand;
  const [first, low, second, high] = terms;
  const number = (term: unknown, index: number): number =>
    typeof term === "number" && Number.isFinite(term)
      ? term
      : fail(
          `${where}[${index}]`,
          `the operand of ${JSON.stringify(terms[index - 1])} must be a number`,
        );
  if (first === "=" && terms.length === 2) {
    const expected = number(low, 1);
    return (value) => value === expected;
  }
  if (isComparison(first) && terms.length === 2) {
    const [holds, bound] = [comparisons[first], number(low, 1)];
    return (value) => typeof value === "number" && holds(value, bound);
  }
  if ((first === ">" || first === ">=") && terms.length === 4) {
    const bottom = number(low, 1);
    if (!isComparison(second) || second === ">" || second === ">=") {
      return fail(`${where}[2]`, 'a range closes with "<" or "<="');
    }
    const top = number(high, 3);
    if (!(bottom < top)) fail(where, "the bottom of a range must be below its top");
    const [above, below] = [comparisons[first], comparisons[second]];
    return (value) => typeof value === "number" && above(value, bottom) && below(value, top);
  }
  if (first !== "=" && !isComparison(first)) {
    fail(`${where}[0]`, `unknown numeric operator ${JSON.stringify(first)}`);
  }
  return fail(where, 'takes [op, n] or [">" or ">=", n, "<" or "<=", n]');
}

// ---- Strings: case folding and wildcards --------------------------------------------------------

/**
 * event-ruler folds case per UTF-16 unit of the pattern: each unit matches its lower or its upper
 * case form (Locale.ROOT), which may be longer ("ß" matches "SS"). The event value is walked
 * against those alternatives, keeping every position reachable so far.
 */
function foldTest(kind: "equals" | "prefix" | "suffix", pattern: string): ValueTest {
  const units = pattern.split("");
  const alternatives = units.map((unit) => [...new Set([unit.toLowerCase(), unit.toUpperCase()])]);
  const reversed = alternatives.map((forms) => forms.map(reverse)).reverse();
  return (value) => {
    if (typeof value !== "string") return false;
    if (kind === "suffix") return foldEnds(reverse(value), reversed).length > 0;
    const ends = foldEnds(value, alternatives);
    return kind === "prefix" ? ends.length > 0 : ends.includes(value.length);
  };
}

function foldEnds(value: string, alternatives: ReadonlyArray<ReadonlyArray<string>>): number[] {
  let positions = [0];
  for (const forms of alternatives) {
    const next = new Set<number>();
    for (const at of positions) {
      for (const form of forms) if (value.startsWith(form, at)) next.add(at + form.length);
    }
    positions = [...next];
    if (positions.length === 0) break;
  }
  return positions;
}

const reverse = (value: string) => value.split("").reverse().join("");

/** Splits a wildcard into its literal segments; `\*` is a star, `\\` a backslash. */
function parseWildcard(pattern: string, where: string): string[] {
  const segments = [""];
  for (let index = 0; index < pattern.length; index++) {
    const unit = pattern.charAt(index);
    if (unit === "\\") {
      const escaped = pattern.charAt(index + 1);
      if (escaped !== "*" && escaped !== "\\") fail(where, `invalid escape at position ${index}`);
      segments[segments.length - 1] += escaped;
      index++;
    } else if (unit === "*") {
      if (pattern.charAt(index + 1) === "*")
        fail(where, `consecutive wildcards at position ${index}`);
      segments.push("");
    } else {
      segments[segments.length - 1] += unit;
    }
  }
  return segments;
}

const wildcardTest =
  (segments: ReadonlyArray<string>): ValueTest =>
  (value) =>
    typeof value === "string" && wildcardMatches(value, segments);

/** Stars only: the first and last segments anchor, the middle ones are found leftmost in turn. */
function wildcardMatches(value: string, segments: ReadonlyArray<string>): boolean {
  const first = segments[0] ?? "";
  const last = segments[segments.length - 1] ?? "";
  if (segments.length === 1) return value === first;
  if (!value.startsWith(first)) return false;
  let at = first.length;
  for (const middle of segments.slice(1, -1)) {
    const found = value.indexOf(middle, at);
    if (found < 0) return false;
    at = found + middle.length;
  }
  return value.length - last.length >= at && value.endsWith(last);
}

// ---- IP addresses -------------------------------------------------------------------------------

function compileCidr(cidr: string, where: string): ValueTest {
  const [address, bits, ...rest] = cidr.split("/");
  const network = parseIp(address ?? "");
  if (rest.length > 0 || bits === undefined || !/^\d+$/.test(bits)) {
    fail(where, "a CIDR is an address, one '/', and a number of mask bits");
  }
  if (!network) return fail(where, `"${address}" is not an IP address`);
  const maskBits = Number(bits);
  // event-ruler refuses a full-length mask (/32, /128): an exact address is written as a string.
  if (maskBits >= network.length * 8) fail(where, `mask bits must be below ${network.length * 8}`);
  return (value) => {
    const candidate = typeof value === "string" ? parseIp(value) : undefined;
    if (!candidate || candidate.length !== network.length) return false;
    for (let bit = 0; bit < maskBits; bit++) {
      const mask = 0x80 >> (bit % 8);
      const byte = Math.floor(bit / 8);
      if (((candidate[byte] ?? 0) & mask) !== ((network[byte] ?? 0) & mask)) return false;
    }
    return true;
  };
}

/** IPv4 dotted decimal or IPv6 hex groups (with one `::`), as event-ruler recognises them. */
function parseIp(value: string): Uint8Array | undefined {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(value)) {
    const octets = value.split(".").map(Number);
    return octets.every((octet) => octet <= 255) ? Uint8Array.from(octets) : undefined;
  }
  if (!/^[0-9a-fA-F:]*:[0-9a-fA-F:]*$/.test(value)) return undefined;
  const halves = value.split("::");
  if (halves.length > 2) return undefined;
  const groupsOf = (part: string) => (part === "" ? [] : part.split(":"));
  const head = groupsOf(halves[0] ?? "");
  const tail = groupsOf(halves[1] ?? "");
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  if (!groups.every((group) => /^[0-9a-fA-F]{1,4}$/.test(group))) return undefined;
  return Uint8Array.from(
    groups.flatMap((group) => [parseInt(group, 16) >> 8, parseInt(group, 16) & 0xff]),
  );
}

function sameBytes(left: Uint8Array | undefined, right: Uint8Array): boolean {
  return left?.length === right.length && left.every((byte, index) => byte === right[index]);
}

// ---- Matching a flattened event -------------------------------------------------------------------

/** A leaf of the event, with the element index it holds in each array it sits in. */
interface Field {
  readonly value: Leaf;
  readonly membership: ReadonlyMap<number, number>;
}

function compiledMatches(compiled: Compiled, event: unknown): boolean {
  if (!isObject(event)) throw new TypeError("an event must be a JSON object");
  const { fields, inArrays } = flatten(event, compiled.paths);
  return compiled.rules.some((steps) =>
    inArrays ? ruleMatches(steps, fields) : plainRuleMatches(steps, fields),
  );
}

/** Membership of a leaf outside any array of objects (most leaves): one shared empty map. */
const OUTSIDE_ARRAYS: ReadonlyMap<number, number> = new Map();

/**
 * The event's leaves on `paths`, and whether any lies inside an array of objects. A field below
 * a path no pattern names cannot be one a pattern names (a descendant's path extends its
 * parent's with a dot), so such subtrees are not visited.
 */
function flatten(
  event: Record<string, unknown>,
  paths: ReadonlySet<string>,
): { fields: Map<string, Field[]>; inArrays: boolean } {
  const fields = new Map<string, Field[]>();
  const membership = new Map<number, number>();
  let arrays = 0;
  let inArrays = false;
  const visit = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      const array = arrays++;
      value.forEach((element, index) => {
        // Only objects and arrays inside an array are elements for array consistency; leaves
        // directly in an array are just several values of the same path.
        if (typeof element !== "object" || element === null) {
          visit(element, path);
        } else {
          membership.set(array, index);
          visit(element, path);
          membership.delete(array);
        }
      });
    } else if (isObject(value)) {
      for (const key in value) {
        if (!Object.hasOwn(value, key)) continue;
        const childPath = path ? `${path}.${key}` : key;
        if (paths.has(childPath)) visit(value[key], childPath);
      }
    } else if (isLeaf(value)) {
      const list = fields.get(path);
      const field = {
        value,
        membership: membership.size ? new Map(membership) : OUTSIDE_ARRAYS,
      };
      if (membership.size) inArrays = true;
      if (list) list.push(field);
      else fields.set(path, [field]);
    }
  };
  visit(event, "");
  return { fields, inArrays };
}

/**
 * {@link ruleMatches} when no leaf lies in an array of objects: every choice is consistent, so
 * each step only asks whether one of its path's values passes (or the path is absent and may be).
 */
function plainRuleMatches(
  steps: ReadonlyArray<readonly [string, FieldTest]>,
  fields: ReadonlyMap<string, ReadonlyArray<Field>>,
): boolean {
  for (const [path, test] of steps) {
    const candidates = fields.get(path);
    if (!candidates || candidates.length === 0) {
      if (!test.absentOk) return false;
    } else if (!candidates.some((field) => test.accepts(field.value))) {
      return false;
    }
  }
  return true;
}

function ruleMatches(
  steps: ReadonlyArray<readonly [string, FieldTest]>,
  fields: ReadonlyMap<string, ReadonlyArray<Field>>,
): boolean {
  // The outcome of the remaining steps depends only on the array elements chosen so far, so it is
  // remembered: many matching values outside arrays of objects (long `resources` lists) would
  // otherwise multiply the search path by path.
  const known = new Map<string, boolean>();
  const matchFrom = (index: number, chosen: ReadonlyMap<number, number>): boolean => {
    const step = steps[index];
    if (!step) return true;
    const key = `${index}|${[...chosen].sort(([left], [right]) => left - right).join(";")}`;
    const remembered = known.get(key);
    if (remembered !== undefined) return remembered;
    const [path, test] = step;
    const candidates = (fields.get(path) ?? []).filter((field) => consistent(chosen, field));
    const result =
      (test.absentOk && candidates.length === 0 && matchFrom(index + 1, chosen)) ||
      candidates.some(
        (field) =>
          test.accepts(field.value) &&
          matchFrom(index + 1, new Map([...chosen, ...field.membership])),
      );
    known.set(key, result);
    return result;
  };
  return matchFrom(0, new Map());
}

function consistent(chosen: ReadonlyMap<number, number>, field: Field): boolean {
  for (const [array, index] of field.membership) {
    const earlier = chosen.get(array);
    if (earlier !== undefined && earlier !== index) return false;
  }
  return true;
}
