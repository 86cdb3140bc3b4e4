import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type EventPattern,
  InvalidPatternError,
  matchesAnyFilter,
  matchesPattern,
  sqsFilterView,
  validatePattern,
} from "../src/content-filter";

// The sample event of EventBridge's pattern documentation and of event-ruler's README.
const ec2Event = {
  version: "0",
  id: "ddddd4-aaaa-7777-4444-345dd43cc333",
  "detail-type": "EC2 Instance State-change Notification",
  source: "aws.ec2",
  account: "012345679012",
  time: "2017-10-02T16:24:49Z",
  region: "us-east-1",
  resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
  detail: {
    "c-count": 5,
    "d-count": 3,
    "x-limit": 301.8,
    "source-ip": "10.0.0.33",
    "instance-id": "i-000000aaaaaa00000",
    state: "running",
  },
};

/** The sample event with `detail` fields replaced (a key set to undefined is removed). */
function withDetail(detail: Record<string, unknown>) {
  const merged = Object.entries({ ...ec2Event.detail, ...detail }).filter(
    ([, v]) => v !== undefined,
  );
  return { ...ec2Event, detail: Object.fromEntries(merged) };
}

describe("matchesPattern: EventBridge's documented examples", () => {
  it("matches exact values, any of a field's list, and ignores fields the pattern leaves out", () => {
    const pattern = {
      "detail-type": ["EC2 Instance State-change Notification"],
      resources: ["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
      detail: { state: ["initializing", "running"] },
    };
    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, withDetail({ state: "initializing" }))).toBe(true);
    expect(matchesPattern(pattern, withDetail({ state: "stopped" }))).toBe(false);
  });

  it("matches an event array when it shares one value with the pattern's list", () => {
    const pattern = {
      resources: [
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
        "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
      ],
    };
    const event = {
      resources: [
        "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b:autoScalingGroupName/ASGTerminate",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
      ],
    };
    expect(matchesPattern(pattern, event)).toBe(true);
    expect(matchesPattern(pattern, { resources: [] })).toBe(false);
    expect(matchesPattern(pattern, { resources: [event.resources[0]] })).toBe(false);
  });

  it("matches null and the empty string, which are not interchangeable", () => {
    const event = { detail: { eventVersion: "", responseElements: null } };
    expect(matchesPattern({ detail: { eventVersion: [""] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { responseElements: [null] } }, event)).toBe(true);
    expect(matchesPattern({ detail: { eventVersion: [null] } }, event)).toBe(false);
    expect(matchesPattern({ detail: { responseElements: [""] } }, event)).toBe(false);
  });

  it("matches values as typed in JSON: strings never equal numbers or booleans", () => {
    const event = { a: 1, b: "1", c: true, d: "true", e: null, f: "null" };
    expect(matchesPattern({ a: [1] }, event)).toBe(true);
    expect(matchesPattern({ a: ["1"] }, event)).toBe(false);
    expect(matchesPattern({ b: [1] }, event)).toBe(false);
    expect(matchesPattern({ b: ["1"] }, event)).toBe(true);
    expect(matchesPattern({ c: ["true"] }, event)).toBe(false);
    expect(matchesPattern({ d: [true] }, event)).toBe(false);
    expect(matchesPattern({ f: [null] }, event)).toBe(false);
    expect(matchesPattern({ e: [null], c: [true] }, event)).toBe(true);
  });

  it("matches a prefix, on strings only", () => {
    expect(matchesPattern({ time: [{ prefix: "2017-10-02" }] }, ec2Event)).toBe(true);
    expect(matchesPattern({ time: [{ prefix: "2017-10-03" }] }, ec2Event)).toBe(false);
    const autoscaling = { source: ["aws.autoscaling"], region: [{ prefix: "eu-" }] };
    expect(matchesPattern(autoscaling, { source: "aws.autoscaling", region: "eu-west-1" })).toBe(
      true,
    );
    expect(matchesPattern(autoscaling, { source: "aws.autoscaling", region: "us-east-1" })).toBe(
      false,
    );
    expect(matchesPattern({ n: [{ prefix: "1" }] }, { n: 12 })).toBe(false);
  });

  it("matches anything but a value, a list, or a prefix, and never an absent field", () => {
    const notInitializing = { detail: { state: [{ "anything-but": "initializing" }] } };
    expect(matchesPattern(notInitializing, ec2Event)).toBe(true);
    expect(matchesPattern(notInitializing, withDetail({ state: "initializing" }))).toBe(false);
    expect(matchesPattern(notInitializing, withDetail({ state: undefined }))).toBe(false);

    const notLimits = { detail: { "x-limit": [{ "anything-but": [100, 200, 300] }] } };
    expect(matchesPattern(notLimits, ec2Event)).toBe(true);
    expect(matchesPattern(notLimits, withDetail({ "x-limit": 200 }))).toBe(false);
    expect(matchesPattern({ detail: { "x-limit": [{ "anything-but": 123 }] } }, ec2Event)).toBe(
      true,
    );

    const notStates = { detail: { state: [{ "anything-but": ["stopped", "overloaded"] }] } };
    expect(matchesPattern(notStates, withDetail({ state: "overloaded" }))).toBe(false);

    const ownEvents = { source: [{ "anything-but": { prefix: "aws." } }] };
    expect(matchesPattern(ownEvents, ec2Event)).toBe(false);
    expect(matchesPattern(ownEvents, { source: "com.firebreak" })).toBe(true);
  });

  it("matches numeric comparisons and ranges on JSON numbers only", () => {
    const pattern = {
      detail: {
        "c-count": [{ numeric: [">", 0, "<=", 5] }],
        "d-count": [{ numeric: ["<", 10] }],
        "x-limit": [{ numeric: ["=", 3.018e2] }],
      },
    };
    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, withDetail({ "c-count": 0 }))).toBe(false);
    expect(matchesPattern(pattern, withDetail({ "c-count": 6 }))).toBe(false);
    expect(matchesPattern(pattern, withDetail({ "d-count": 10 }))).toBe(false);
    expect(matchesPattern(pattern, withDetail({ "x-limit": 301.80000001 }))).toBe(false);
    expect(matchesPattern(pattern, withDetail({ "c-count": "5" }))).toBe(false);
    // Lambda's table: Price more than 10 and at most 20.
    const price = { Price: [{ numeric: [">", 10, "<=", 20] }] };
    expect([10, 10.5, 20, 20.01].map((Price) => matchesPattern(price, { Price }))).toEqual([
      false,
      true,
      true,
      false,
    ]);
    expect(matchesPattern({ Price: [{ numeric: [">=", 10, "<", 20] }] }, { Price: 10 })).toBe(true);
  });

  it("matches IP addresses by CIDR block, IPv4 and IPv6", () => {
    const pattern = { detail: { "source-ip": [{ cidr: "10.0.0.0/24" }] } };
    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, withDetail({ "source-ip": "10.0.1.33" }))).toBe(false);
    expect(matchesPattern(pattern, withDetail({ "source-ip": "not an address" }))).toBe(false);
    const v6 = { ip: [{ cidr: "2001:db8::/32" }] };
    expect(matchesPattern(v6, { ip: "2001:DB8:0:0:1::7" })).toBe(true);
    expect(matchesPattern(v6, { ip: "2001:db9::1" })).toBe(false);
    expect(matchesPattern(v6, { ip: "10.0.0.1" })).toBe(false);
    // event-ruler reads a pattern string that is an address as that address.
    expect(matchesPattern({ ip: ["2001:db8::1"] }, { ip: "2001:0DB8:0:0:0:0:0:1" })).toBe(true);
  });

  it("matches exists on leaves only: an object is absent for exists", () => {
    const noCount = { detail: { "c-count": [{ exists: false }] } };
    const hasCount = { detail: { "c-count": [{ exists: true }] } };
    expect(matchesPattern(noCount, withDetail({ "c-count": undefined }))).toBe(true);
    expect(matchesPattern(noCount, ec2Event)).toBe(false);
    expect(matchesPattern(noCount, withDetail({ "c-count": { c1: 100 } }))).toBe(true);
    expect(matchesPattern(hasCount, withDetail({ "c-count": { c1: 100 } }))).toBe(false);
    expect(matchesPattern(hasCount, withDetail({ "c-count": [] }))).toBe(false);
    expect(matchesPattern(hasCount, withDetail({ "c-count": null }))).toBe(true);
    expect(matchesPattern(noCount, { "detail-type": "no detail at all" })).toBe(true);
    // event-ruler's own table: exists on a, b and x against three one-field events.
    const events = [{ a: 1 }, { b: 2 }, { x: "X" }];
    const rules: EventPattern[] = [
      { a: [{ exists: true }] },
      { b: [{ exists: false }] },
      { x: [{ exists: true }] },
    ];
    expect(rules.map((rule) => events.map((event) => matchesPattern(rule, event)))).toEqual([
      [true, false, false],
      [true, false, true],
      [false, false, true],
    ]);
  });

  it("needs every pattern field, including nested objects the event lacks", () => {
    expect(matchesPattern({ detail: { state: ["running"] } }, { detail: "running" })).toBe(false);
    expect(matchesPattern({ detail: { state: ["running"] } }, { state: "running" })).toBe(false);
    expect(matchesPattern({ source: ["aws.ec2"], nope: ["x"] }, ec2Event)).toBe(false);
  });

  it("matches the documented complex example", () => {
    const pattern = {
      time: [{ prefix: "2017-10-02" }],
      detail: {
        state: [{ "anything-but": "initializing" }],
        "c-count": [{ numeric: [">", 0, "<=", 5] }],
        "d-count": [{ numeric: ["<", 10] }],
        "x-limit": [{ "anything-but": [100, 200, 300] }],
        "source-ip": [{ cidr: "10.0.0.0/8" }],
      },
    };
    expect(matchesPattern(pattern, ec2Event)).toBe(true);
    expect(matchesPattern(pattern, withDetail({ "x-limit": 300 }))).toBe(false);
  });
});

describe("matchesPattern: string operators beyond prefix", () => {
  it("matches suffixes, case-insensitive forms and equals-ignore-case", () => {
    expect(matchesPattern({ source: [{ suffix: "ec2" }] }, ec2Event)).toBe(true);
    expect(matchesPattern({ source: [{ suffix: "EC2" }] }, ec2Event)).toBe(false);
    expect(
      matchesPattern({ source: [{ suffix: { "equals-ignore-case": "EC2" } }] }, ec2Event),
    ).toBe(true);
    expect(
      matchesPattern({ source: [{ prefix: { "equals-ignore-case": "AWS." } }] }, ec2Event),
    ).toBe(true);
    expect(matchesPattern({ source: [{ "equals-ignore-case": "AWS.Ec2" }] }, ec2Event)).toBe(true);
    expect(matchesPattern({ source: [{ "equals-ignore-case": "AWS.Ec" }] }, ec2Event)).toBe(false);
    // Case folding follows the pattern's characters, as event-ruler does: "ß" also reads as "SS".
    expect(
      matchesPattern({ word: [{ "equals-ignore-case": "straße" }] }, { word: "STRASSE" }),
    ).toBe(true);
  });

  it("matches wildcards, with \\* for a literal star", () => {
    const service = { source: [{ wildcard: "Simple*Service" }] };
    expect(matchesPattern(service, { source: "SimpleNotificationService" })).toBe(true);
    expect(matchesPattern(service, { source: "SimpleService" })).toBe(true);
    expect(matchesPattern(service, { source: "SimpleServices" })).toBe(false);
    const jar = { path: [{ wildcard: "*/bin/*.jar" }] };
    expect(matchesPattern(jar, { path: "/usr/bin/tool.jar" })).toBe(true);
    expect(matchesPattern(jar, { path: "/usr/lib/tool.jar" })).toBe(false);
    expect(matchesPattern({ s: [{ wildcard: "a\\*b" }] }, { s: "a*b" })).toBe(true);
    expect(matchesPattern({ s: [{ wildcard: "a\\*b" }] }, { s: "axb" })).toBe(false);
    expect(matchesPattern({ s: [{ wildcard: "a\\\\*" }] }, { s: "a\\tail" })).toBe(true);
    expect(matchesPattern({ s: [{ wildcard: "ab*ba" }] }, { s: "aba" })).toBe(false);
    expect(matchesPattern({ n: [{ wildcard: "*" }] }, { n: 5 })).toBe(false);
  });

  it("matches anything-but suffix, equals-ignore-case and wildcard, letting non-strings through", () => {
    const notSuffix = { id: [{ "anything-but": { suffix: ["1234", "6789"] } }] };
    expect(matchesPattern(notSuffix, { id: "i-6789" })).toBe(false);
    expect(matchesPattern(notSuffix, { id: "i-0000" })).toBe(true);
    const notStopped = {
      state: [{ "anything-but": { "equals-ignore-case": ["Stopped", "OverLoaded"] } }],
    };
    expect(matchesPattern(notStopped, { state: "STOPPED" })).toBe(false);
    expect(matchesPattern(notStopped, { state: "running" })).toBe(true);
    const notJar = { path: [{ "anything-but": { wildcard: "*/bin/*.jar" } }] };
    expect(matchesPattern(notJar, { path: "/usr/bin/tool.jar" })).toBe(false);
    expect(matchesPattern(notJar, { path: "/usr/bin/tool.class" })).toBe(true);
    expect(matchesPattern(notJar, { path: 7 })).toBe(true);
    expect(matchesPattern({ n: [{ "anything-but": 5 }] }, { n: "5" })).toBe(true);
    expect(matchesPattern({ s: [{ "anything-but": "x" }] }, { s: null })).toBe(true);
  });
});

describe("matchesPattern: $or and arrays of objects", () => {
  const metric = { source: "aws.cloudwatch", metricName: "NetworkIn", namespace: "AWS/EC2" };

  it("ORs the branches of $or, at the top and nested, ANDed with the other fields", () => {
    const either = {
      source: ["aws.cloudwatch"],
      $or: [
        { metricName: ["CPUUtilization", "ReadLatency"] },
        { namespace: ["AWS/EC2", "AWS/ES"] },
      ],
    };
    expect(matchesPattern(either, metric)).toBe(true);
    expect(matchesPattern(either, { ...metric, namespace: "AWS/RDS" })).toBe(false);
    expect(matchesPattern(either, { ...metric, source: "aws.ec2" })).toBe(false);
    const nested = {
      source: ["aws.cloudwatch"],
      $or: [
        { metricName: ["CPUUtilization"] },
        {
          metricType: ["MetricType"],
          namespace: ["AWS/EC2"],
          $or: [{ metricId: [1234] }, { spaceId: [1000] }],
        },
      ],
    };
    expect(matchesPattern(nested, { ...metric, metricType: "MetricType", spaceId: 1000 })).toBe(
      true,
    );
    expect(matchesPattern(nested, { ...metric, metricType: "MetricType", spaceId: 1001 })).toBe(
      false,
    );
    expect(
      matchesPattern({ detail: { $or: [{ a: [1] }, { b: [2] }] } }, { detail: { b: 2 } }),
    ).toBe(true);
  });

  // event-ruler's array-consistency case: fields must come from the same array element.
  const staff = {
    employees: [
      [
        { firstName: "John", lastName: "Doe", ids: [1234, 1000, 9999] },
        { firstName: "Anna", lastName: "Smith" },
      ],
      [{ firstName: "Peter", lastName: "Jones", ids: [] }],
    ],
  };

  it("matches objects inside (nested) arrays field by field within one element", () => {
    expect(matchesPattern({ employees: { firstName: ["Anna"] } }, staff)).toBe(true);
    expect(matchesPattern({ employees: { firstName: ["John"], ids: [1000] } }, staff)).toBe(true);
    expect(matchesPattern({ employees: { firstName: ["Anna"], lastName: ["Jones"] } }, staff)).toBe(
      false,
    );
    expect(matchesPattern({ employees: { firstName: ["Anna"], ids: [1000] } }, staff)).toBe(false);
    expect(matchesPattern({ employees: ["Anna"] }, staff)).toBe(false);
  });

  it("checks exists within the element the other fields matched", () => {
    const annaWithoutIds = { employees: { firstName: ["Anna"], ids: [{ exists: false }] } };
    const annaWithIds = { employees: { firstName: ["Anna"], ids: [{ exists: true }] } };
    expect(matchesPattern(annaWithoutIds, staff)).toBe(true);
    expect(matchesPattern(annaWithIds, staff)).toBe(false);
    expect(
      matchesPattern({ employees: { firstName: ["John"], ids: [{ exists: false }] } }, staff),
    ).toBe(false);
  });

  it("settles many matching array values against a failing later field without a blow-up", () => {
    // 40 values in each of five arrays: a naive search tries 40^5 combinations before giving up.
    const values = Array.from({ length: 40 }, (_, index) => `v${index}`);
    const event = { a: values, b: values, c: values, d: values, e: values };
    const present = [{ exists: true }];
    const pattern = { a: present, b: present, c: present, d: present, e: present, z: ["x"] };
    expect(matchesPattern(pattern, event)).toBe(false);
    expect(matchesPattern(pattern, { ...event, z: "x" })).toBe(true);
  });

  it("refuses an event that is not a JSON object", () => {
    expect(() => matchesPattern({ a: [1] }, [{ a: 1 }])).toThrow(TypeError);
    expect(() => matchesPattern({ a: [1] }, "a")).toThrow(TypeError);
  });
});

describe("validatePattern", () => {
  const refused: Array<[unknown, string]> = [
    [[{ a: [1] }], ""],
    [{}, ""],
    [{ detail: "running" }, "detail"],
    [{ detail: { state: "running" } }, "detail.state"],
    [{ detail: { state: [] } }, "detail.state"],
    [{ detail: {} }, "detail"],
    [{ detail: { state: [["running"]] } }, "detail.state[0]"],
    [{ state: [{ prefx: "run" }] }, "state[0]"],
    [{ state: [{ prefix: "a", suffix: "b" }] }, "state[0]"],
    [{ state: [{ prefix: 1 }] }, "state[0].prefix"],
    [{ state: [{ prefix: { "anything-but": "x" } }] }, "state[0].prefix"],
    [{ n: [{ numeric: [">", "0"] }] }, "n[0].numeric[1]"],
    [{ n: [{ numeric: [">", 0, "<"] }] }, "n[0].numeric"],
    [{ n: [{ numeric: ["<", 0, ">", 5] }] }, "n[0].numeric"],
    [{ n: [{ numeric: [">", 5, "<", 5] }] }, "n[0].numeric"],
    [{ n: [{ numeric: [">", 0, ">", 5] }] }, "n[0].numeric[2]"],
    [{ n: [{ numeric: ["!=", 0] }] }, "n[0].numeric[0]"],
    [{ n: [{ numeric: ["toString", 0] }] }, "n[0].numeric[0]"],
    [{ n: [{ numeric: 5 }] }, "n[0].numeric"],
    [{ s: [{ "anything-but": [] }] }, "s[0].anything-but"],
    [{ s: [{ "anything-but": ["a", 1] }] }, "s[0].anything-but"],
    [{ s: [{ "anything-but": null }] }, "s[0].anything-but"],
    [{ s: [{ "anything-but": { prefix: "" } }] }, "s[0].anything-but.prefix"],
    [{ s: [{ "anything-but": { numeric: [">", 1] } }] }, "s[0].anything-but"],
    [{ s: [{ "anything-but": { exists: false } }] }, "s[0].anything-but"],
    [{ s: [{ exists: "yes" }] }, "s[0].exists"],
    [{ s: [{ wildcard: "a**b" }] }, "s[0].wildcard"],
    [{ s: [{ wildcard: "a\\b" }] }, "s[0].wildcard"],
    [{ s: [{ cidr: "10.0.0.0" }] }, "s[0].cidr"],
    [{ s: [{ cidr: "10.0.0.0/32" }] }, "s[0].cidr"],
    [{ s: [{ cidr: "example.com/8" }] }, "s[0].cidr"],
    [{ $or: [{ a: [1] }] }, "$or"],
    [{ $or: { a: [1] } }, "$or"],
    [{ $or: [{ a: [1] }, "b"] }, "$or[1]"],
    [{ $or: [{ a: [1] }, { prefix: ["b"] }] }, "$or[1].prefix"],
  ];

  it.each(refused)("refuses %j, naming %s", (pattern, path) => {
    const thrown = (() => {
      try {
        validatePattern(pattern);
      } catch (error) {
        return error;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(InvalidPatternError);
    expect(thrown).toMatchObject({ path });
    expect(String(thrown)).toContain(path || "its root");
  });

  it("accepts every operator in its documented forms", () => {
    expect(() =>
      validatePattern({
        a: ["x", 1, true, null, { prefix: "" }, { suffix: { "equals-ignore-case": "X" } }],
        b: [{ "anything-but": { wildcard: ["*.jar", "*.class"] } }, { "equals-ignore-case": "x" }],
        c: [{ numeric: ["=", -1.5e3] }, { numeric: [">=", 0, "<", 1] }, { exists: false }],
        d: { e: [{ cidr: "2001:db8::/127" }, { wildcard: "a\\*b\\\\c*" }] },
        prefix: ["a field may be named like an operator outside $or"],
        $or: [{ f: [1] }, { g: { h: [2] } }],
      }),
    ).not.toThrow();
  });
});

describe("Lambda event filtering", () => {
  // The DynamoDB stream record of Lambda's filtering guide.
  const customerRecord = {
    eventID: "1",
    eventName: "INSERT",
    eventVersion: "1.0",
    eventSource: "aws:dynamodb",
    dynamodb: {
      ApproximateCreationDateTime: "1678831218.0",
      Keys: { CustomerName: { S: "AnyCompany Industries" } },
      NewImage: {
        AccountManager: { S: "Pat Candella" },
        PaymentTerms: { S: "60 days" },
        CustomerName: { S: "AnyCompany Industries" },
        OrderTotal: { N: "500" },
      },
      SequenceNumber: "111",
      SizeBytes: 26,
      StreamViewType: "NEW_IMAGE",
    },
  };
  const filter = (pattern: EventPattern) => JSON.stringify(pattern);

  it("filters DynamoDB records on keys and attributes in DynamoDB JSON", () => {
    const byKey = filter({
      dynamodb: { Keys: { CustomerName: { S: ["AnyCompany Industries"] } } },
    });
    const byTerms = filter({
      dynamodb: {
        NewImage: {
          AccountManager: { S: ["Pat Candella"] },
          PaymentTerms: { S: ["30 days", "60 days"] },
        },
      },
    });
    expect(matchesAnyFilter([byKey], customerRecord)).toBe(true);
    expect(matchesAnyFilter([byTerms], customerRecord)).toBe(true);
    expect(matchesAnyFilter([filter({ eventName: ["INSERT"] })], customerRecord)).toBe(true);
    expect(matchesAnyFilter([filter({ eventName: ["REMOVE"] })], customerRecord)).toBe(false);
  });

  it("never matches numeric against a DynamoDB number, which is a string; its string form does", () => {
    const numeric = filter({
      dynamodb: { NewImage: { OrderTotal: { N: [{ numeric: [">", 100] }] } } },
    });
    const asString = filter({ dynamodb: { NewImage: { OrderTotal: { N: ["500"] } } } });
    const notZero = filter({
      dynamodb: { NewImage: { OrderTotal: { N: [{ "anything-but": "0" }] } } },
    });
    expect(matchesAnyFilter([numeric], customerRecord)).toBe(false);
    expect(matchesAnyFilter([asString], customerRecord)).toBe(true);
    expect(matchesAnyFilter([notZero], customerRecord)).toBe(true);
  });

  it("never matches the dispatcher's pending filter as it was deployed", () => {
    const pattern = { dynamodb: { NewImage: { pending: { N: [{ numeric: [">", 0] }] } } } };
    const record = { dynamodb: { NewImage: { pending: { N: "1" } } } };
    expect(matchesPattern(pattern, record)).toBe(false);
    expect(matchesAnyFilter([JSON.stringify(pattern)], record)).toBe(false);
    const fixed = { dynamodb: { NewImage: { pending: { N: [{ "anything-but": "0" }] } } } };
    expect(matchesPattern(fixed, record)).toBe(true);
    expect(matchesPattern(fixed, { dynamodb: { NewImage: { pending: { N: "0" } } } })).toBe(false);
    expect(matchesPattern(fixed, { dynamodb: { NewImage: {} } })).toBe(false);
  });

  it("applies exists to the typed leaf, not to the attribute object", () => {
    const onAttribute = filter({ dynamodb: { NewImage: { AccountManager: [{ exists: true }] } } });
    const onLeaf = filter({
      dynamodb: { NewImage: { AccountManager: { S: [{ exists: true }] } } },
    });
    expect(matchesAnyFilter([onAttribute], customerRecord)).toBe(false);
    expect(matchesAnyFilter([onLeaf], customerRecord)).toBe(true);
  });

  it("ORs up to five filters, lets everything through without filters, and refuses more", () => {
    const misses = ["A", "B", "C", "D"].map((name) => filter({ eventName: [name] }));
    expect(matchesAnyFilter(misses, customerRecord)).toBe(false);
    expect(matchesAnyFilter([...misses, filter({ eventName: ["INSERT"] })], customerRecord)).toBe(
      true,
    );
    expect(matchesAnyFilter([], customerRecord)).toBe(true);
    expect(() => matchesAnyFilter([...misses, ...misses], customerRecord)).toThrow(/8 filters/);
  });

  it("refuses a filter that is not JSON, too long, or not a valid pattern, naming it", () => {
    expect(() => matchesAnyFilter(['{"a": [1]}', "{a: [1]}"], {})).toThrow(/filters\[1\]/);
    expect(() => matchesAnyFilter([filter({ a: ["x".repeat(5000)] })], {})).toThrow(/4096/);
    expect(() => matchesAnyFilter(['{"dynamodb": {"N": 1}}'], {})).toThrow(
      /filters\[0\]\.dynamodb\.N/,
    );
  });

  describe("SQS", () => {
    const sqsRecord = (body: string) => ({
      messageId: "059f36b4-87a3-44ab-83d2-661975830a7d",
      body,
      attributes: { ApproximateReceiveCount: "1" },
      eventSource: "aws:sqs",
    });
    const jsonBody = JSON.stringify({ RecordNumber: 1234, RequestCode: "BBBB" });
    const onCode = filter({ body: { RequestCode: ["BBBB"] } });
    const onText = filter({ body: ["BBBB"] });

    it("parses a JSON body so that patterns reach its properties", () => {
      expect(sqsFilterView(sqsRecord(jsonBody)).body).toEqual({
        RecordNumber: 1234,
        RequestCode: "BBBB",
      });
      expect(matchesAnyFilter([onCode], sqsFilterView(sqsRecord(jsonBody)))).toBe(true);
      expect(
        matchesAnyFilter(
          [filter({ body: { RecordNumber: [{ numeric: [">", 1000] }] } })],
          sqsFilterView(sqsRecord(jsonBody)),
        ),
      ).toBe(true);
    });

    it("matches a plain-text body only with a plain-string pattern, and the reverse", () => {
      expect(matchesAnyFilter([onCode], sqsFilterView(sqsRecord("BBBB")))).toBe(false);
      expect(matchesAnyFilter([onText], sqsFilterView(sqsRecord("BBBB")))).toBe(true);
      expect(matchesAnyFilter([onText], sqsFilterView(sqsRecord(jsonBody)))).toBe(false);
      expect(sqsFilterView(sqsRecord("42")).body).toBe("42");
      expect(sqsFilterView(sqsRecord("{not json")).body).toBe("{not json");
    });
  });
});

describe("properties", () => {
  const leaf = fc.oneof(
    fc.string({ maxLength: 8 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
  );
  const isLeaf = (value: unknown) => value === null || typeof value !== "object";

  /** A pattern asking for every leaf the event holds at its own path, arrays by any element. */
  function patternOf(event: Record<string, unknown>): EventPattern | undefined {
    const fields = Object.entries(event).flatMap(([key, value]): Array<[string, unknown]> => {
      if (key === "$or") return [];
      if (Array.isArray(value)) {
        const leaves = value.filter(isLeaf);
        return leaves.length > 0 ? [[key, leaves]] : [];
      }
      if (isLeaf(value)) return [[key, [value]]];
      const nested = patternOf(value as Record<string, unknown>);
      return nested ? [[key, nested]] : [];
    });
    return fields.length > 0 ? (Object.fromEntries(fields) as EventPattern) : undefined;
  }

  it("a pattern built from an event's own leaf values is valid and matches it", () => {
    // Empty keys aside: event-ruler names `{"": {"": 0}}` differently in rules and events.
    const key = fc.string({ minLength: 1, maxLength: 6 });
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        leaf,
        fc.array(tie("node"), { maxLength: 3 }),
        fc.dictionary(key, tie("node"), { maxKeys: 3 }),
      ),
    })).node;
    const event = fc.dictionary(key, value, { maxKeys: 4 });
    fc.assert(
      fc.property(event, (generated) => {
        const pattern = patternOf(generated);
        fc.pre(pattern !== undefined);
        if (pattern === undefined) return;
        validatePattern(pattern);
        expect(matchesPattern(pattern, generated)).toBe(true);
      }),
    );
  });

  it("anything-but a value never matches that value, and matches every other leaf", () => {
    const excluded = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
    );
    fc.assert(
      fc.property(excluded, leaf, (value, other) => {
        const pattern = { field: [{ "anything-but": value }] };
        expect(matchesPattern(pattern, { field: value })).toBe(false);
        expect(matchesPattern(pattern, { field: [other, value] })).toBe(other !== value);
        expect(matchesPattern(pattern, {})).toBe(false);
      }),
    );
  });

  it("a wildcard with one star at an end or both agrees with prefix, suffix and includes", () => {
    const escaped = (text: string) => text.replace(/[\\*]/g, (unit) => `\\${unit}`);
    const text = fc.string({ unit: fc.constantFrom("a", "b", "*", "\\"), maxLength: 6 });
    fc.assert(
      fc.property(text, text, (literal, value) => {
        const wildcard = (shape: string) =>
          matchesPattern({ s: [{ wildcard: shape }] }, { s: value });
        expect(wildcard(`${escaped(literal)}*`)).toBe(value.startsWith(literal));
        expect(wildcard(`*${escaped(literal)}`)).toBe(value.endsWith(literal));
        // "**" is refused, so the both-ends shape needs a literal between the stars.
        if (literal !== "") expect(wildcard(`*${escaped(literal)}*`)).toBe(value.includes(literal));
        expect(wildcard(escaped(literal))).toBe(value === literal);
      }),
    );
  });
});
