import { gunzipSync, gzipSync } from "node:zlib";
import fc from "fast-check";

/** A parsed JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

type Path = Array<string | number>;

/**
 * Strings that have broken parsers elsewhere: control characters, lone surrogates, bidi
 * overrides, markup, format strings, prototype keys, numbers and dates in the wrong place.
 */
export const ODD_STRINGS = [
  "",
  " ",
  "\u0000",
  "\r\nX-Injected: yes",
  "a\u0000b",
  "\t\v\f\b",
  "\u001b[31mred\u001b[0m",
  "\ud800",
  "\udfff\ud800",
  "\u202e\u2066evil\u2069",
  "\ufeff",
  "💥🔥👩‍👩‍👧‍👦",
  "Z̸̢̛̤͎a̴l̶g̷o̸",
  "ﷺ",
  "<script>alert(1)</script>",
  "<!channel> <@U0BADBAD1>",
  "%s%n%x%d",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the point is a template-looking string
  "${process.env.API_TOKENS}",
  "{{7*7}}",
  "__proto__",
  "constructor",
  "../../../../etc/passwd",
  "null",
  "NaN",
  "-0",
  "1e309",
  "0x10",
  "9999999-12-31T23:59:59Z",
  "2024-02-30T25:61:61+0000",
  "1970-01-01T00:00:00.000+0000",
  "arn:aws:cloudwatch:us-east-1:123456789012:alarm:",
  "https://evil.example/",
  "DROP TABLE incidents;--",
];

/** Numbers at and past the edges: JSON cannot carry NaN or Infinity, 1e309 parses as Infinity. */
export const ODD_NUMBERS = [
  0,
  -0,
  -1,
  0.5,
  5e-324,
  2 ** 31,
  2 ** 53 + 1,
  -(2 ** 53) - 1,
  Number.MAX_VALUE,
  -Number.MAX_VALUE,
  Number.MIN_VALUE,
  1_700_000_000_000_000,
];

/** A hostile string: one of the odd ones, a generated one (any code unit), or a huge one. */
export const oddString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ODD_STRINGS) },
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 40 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(
        fc.constantFrom("A", "é", "\u0000", "💥", "\n", "%"),
        fc.integer({ min: 1, max: 60_000 }),
      )
      .map(([unit, times]) => unit.repeat(times)),
  },
);

const oddNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(...ODD_NUMBERS),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);

/** Any small JSON value, odd strings included. */
export const oddValue: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, [], {}, [null], { "": null }),
  oddString,
  oddNumber,
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
);

/** One way to break a value at a path. */
export type Mutation =
  | { kind: "remove" }
  | { kind: "replace"; value: Json }
  | { kind: "swap-type" }
  | { kind: "empty" }
  | { kind: "deepen"; levels: number; asArray: boolean }
  | { kind: "add-key"; key: string; value: Json }
  | { kind: "repeat"; times: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Mutation>({ kind: "remove" }) },
  {
    weight: 4,
    arbitrary: oddValue.map((value): Mutation => ({ kind: "replace", value })),
  },
  { weight: 3, arbitrary: fc.constant<Mutation>({ kind: "swap-type" }) },
  { weight: 2, arbitrary: fc.constant<Mutation>({ kind: "empty" }) },
  {
    weight: 1,
    arbitrary: fc
      .record({
        levels: fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constantFrom(1_000, 10_000)),
        asArray: fc.boolean(),
      })
      .map((deepen): Mutation => ({ kind: "deepen", ...deepen })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        key: fc.oneof(fc.constantFrom("__proto__", "constructor", "Records", "awslogs"), oddString),
        value: oddValue,
      })
      .map((add): Mutation => ({ kind: "add-key", ...add })),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 2, max: 2_000 })
      .map((times): Mutation => ({ kind: "repeat", times })),
  },
);

/** Every path in a value, the root first (iteratively: values may be deep). */
export function pathsOf(value: Json, limit = 5_000): Path[] {
  const paths: Path[] = [];
  const pending: Array<[Json, Path]> = [[value, []]];
  while (pending.length > 0 && paths.length < limit) {
    const [current, path] = pending.shift() as [Json, Path];
    paths.push(path);
    if (Array.isArray(current)) {
      current.forEach((child, index) => {
        pending.push([child, [...path, index]]);
      });
    } else if (current !== null && typeof current === "object") {
      for (const [key, child] of Object.entries(current)) pending.push([child, [...path, key]]);
    }
  }
  return paths;
}

function parentOf(root: Json, path: Path): Json {
  let current = root;
  for (const step of path.slice(0, -1)) current = (current as Record<string, Json>)[step] as Json;
  return current;
}

function getAt(root: Json, path: Path): Json | undefined {
  let current: Json | undefined = root;
  for (const step of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string, Json>)[step];
  }
  return current;
}

/** A value of another JSON type than `value`. */
function otherType(value: Json): Json {
  if (typeof value === "string") return value.length;
  if (typeof value === "number") return String(value);
  if (typeof value === "boolean") return value ? "true" : 0;
  if (value === null) return {};
  if (Array.isArray(value)) return { length: value.length };
  return [value];
}

function mutated(value: Json, change: Mutation): Json | undefined {
  switch (change.kind) {
    case "remove":
      return undefined;
    case "replace":
      // A copy: generated values may be shared constants, and later steps mutate in place.
      return structuredClone(change.value);
    case "swap-type":
      return otherType(value);
    case "empty":
      return Array.isArray(value) ? [] : typeof value === "string" ? "" : {};
    case "deepen": {
      // Past 100 levels the nesting is only spliced into the body's text (see toBody): building
      // it as objects would overflow this process's stack before the server's.
      if (change.levels > 100) {
        return { [DEEP]: [change.levels, change.asArray ? 1 : 0, value] } as unknown as Json;
      }
      let deep = value;
      for (let level = 0; level < change.levels; level++)
        deep = change.asArray ? [deep] : { a: deep };
      return deep;
    }
    case "add-key":
      if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
      // defineProperty, so "__proto__" becomes an own key as JSON.parse would make it.
      Object.defineProperty(value, change.key, {
        value: structuredClone(change.value),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      return value;
    case "repeat":
      return Array.isArray(value)
        ? Array.from(
            { length: change.times },
            (_, index) => value[index % Math.max(1, value.length)] ?? null,
          )
        : typeof value === "string"
          ? value.repeat(Math.min(change.times, Math.ceil(100_000 / Math.max(1, value.length))))
          : value;
  }
}

/** Applies one mutation at the `at`-th path (modulo the number of paths) of `root`. */
export function applyMutation(root: Json, at: number, change: Mutation): Json {
  const paths = pathsOf(root);
  const path = paths[at % paths.length] as Path;
  if (path.length === 0) return mutated(root, change) ?? null;
  const parent = parentOf(root, path) as Record<string, Json> | Json[];
  const key = path[path.length - 1] as string | number;
  const next = mutated(getAt(root, path) as Json, change);
  if (next === undefined) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key as string];
  } else (parent as Record<string | number, Json>)[key] = next;
  return root;
}

/** JSON strings inside JSON (SNS `Message`, `reasonData`) and gzip inside base64 (`awslogs.data`). */
type Nested = { kind: "json" | "logs"; path: Path };

function nestedIn(value: Json): Nested[] {
  const found: Nested[] = [];
  for (const path of pathsOf(value)) {
    const text = getAt(value, path);
    if (typeof text !== "string") continue;
    if (path[path.length - 1] === "data" && path[path.length - 2] === "awslogs") {
      found.push({ kind: "logs", path });
    } else if (/^\s*[[{]/.test(text)) {
      try {
        JSON.parse(text);
        found.push({ kind: "json", path });
      } catch {
        // Not JSON after all: mutated as a plain string.
      }
    }
  }
  return found;
}

/** The payload inside, or undefined when an earlier mutation broke the wrapping. */
function decodeNested(nested: Nested, text: string): Json | undefined {
  try {
    return JSON.parse(
      nested.kind === "logs" ? gunzipSync(Buffer.from(text, "base64")).toString("utf8") : text,
    ) as Json;
  } catch {
    return undefined;
  }
}

const encodeNested = (nested: Nested, value: Json): string =>
  nested.kind === "logs"
    ? gzipSync(Buffer.from(toBody(value), "utf8")).toString("base64")
    : toBody(value);

const step = fc.record({ at: fc.nat(), change: mutation, inside: fc.nat() });

/**
 * Arbitrary breakages of a good payload: 1 to 4 mutations, each at any path of the payload or,
 * half the time when it has one, inside a payload it nests (an SNS message, a gzipped logs batch),
 * so the inner parsers are reached with everything around them still valid.
 */
export function mutationsOf(fixture: Json): fc.Arbitrary<Json> {
  const nested = nestedIn(fixture);
  return fc.array(step, { minLength: 1, maxLength: 4 }).map((steps) => {
    let value = structuredClone(fixture);
    for (const { at, change, inside } of steps) {
      const target =
        nested.length > 0 && inside % 2 === 0 ? nested[inside % nested.length] : undefined;
      const text = target ? getAt(value, target.path) : undefined;
      const decoded = target && typeof text === "string" ? decodeNested(target, text) : undefined;
      let encoded: string | undefined;
      try {
        // An inner payload a deepen made thousands of levels deep cannot be re-encoded.
        encoded =
          target && decoded !== undefined
            ? encodeNested(target, applyMutation(decoded, at, change))
            : undefined;
      } catch {
        encoded = undefined;
      }
      value =
        target && encoded !== undefined
          ? setAt(value, target.path, encoded)
          : applyMutation(value, at, change);
    }
    return value;
  });
}

function setAt(root: Json, path: Path, value: Json): Json {
  if (path.length === 0) return value;
  (parentOf(root, path) as Record<string | number, Json>)[path[path.length - 1] as string] = value;
  return root;
}

const DEEP = "\u0000deep";

/**
 * The request body for a (mutated) payload: JSON, with the deep nestings `deepen` asked for
 * spliced in as text.
 */
export function toBody(value: Json): string {
  const pieces: string[] = [];
  const text = JSON.stringify(value, (_key, current: unknown) => {
    const deep =
      current !== null && typeof current === "object"
        ? (current as Record<string, unknown>)[DEEP]
        : undefined;
    // Later mutations may have broken the marker itself: then it is sent as it is.
    if (Array.isArray(deep) && Number.isInteger(deep[0]) && deep[0] > 0 && deep[0] <= 20_000) {
      const [levels, asArray, inner] = deep as [number, number, Json];
      pieces.push(
        asArray
          ? `${"[".repeat(levels)}${toBody(inner)}${"]".repeat(levels)}`
          : `${'{"a":'.repeat(levels)}${toBody(inner)}${"}".repeat(levels)}`,
      );
      return `\u0000piece${pieces.length - 1}\u0000`;
    }
    return current;
  }) as string | undefined;
  // `undefined` (a value a later mutation removed) is sent as null.
  return (text ?? "null").replace(
    /"\\u0000piece(\d+)\\u0000"/g,
    (_match, index: string) => pieces[Number(index)] as string,
  );
}

/** `levels` arrays around nothing, as text: JSON.parse survives it, recursion does not. */
export const deepArray = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;

/** `levels` objects, as text. */
export const deepObject = (levels: number) => `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;
