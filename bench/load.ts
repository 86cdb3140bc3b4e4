import http from "node:http";

/** A keep-alive HTTP client: Node's http is several times lighter than fetch, which matters here. */
export class LoadClient {
  private readonly agent: http.Agent;

  constructor(
    private readonly host: string,
    private readonly port: number,
    sockets: number,
  ) {
    this.agent = new http.Agent({ keepAlive: true, maxSockets: sockets });
  }

  request(
    method: string,
    path: string,
    body?: string,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const request = http.request(
        {
          host: this.host,
          port: this.port,
          method,
          path,
          agent: this.agent,
          headers: {
            ...(body !== undefined
              ? { "content-type": "application/json", "content-length": Buffer.byteLength(body) }
              : {}),
            ...headers,
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () =>
            resolve({
              status: response.statusCode ?? 0,
              body: Buffer.concat(chunks).toString("utf8"),
            }),
          );
        },
      );
      request.on("error", reject);
      request.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface Job {
  path: string;
  body: string;
  headers?: Record<string, string>;
  /** Events this request carries. */
  events: number;
}

/**
 * Sends every job through `clients` concurrent connections, as fast as answers come.
 * @returns the wall time from the first request to the last answer, in ms
 */
export async function drive(
  client: LoadClient,
  jobs: ReadonlyArray<Job>,
  clients: number,
  expect: number,
): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let index = next++; index < jobs.length; index = next++) {
        const job = jobs[index] as Job;
        const answer = await client.request("POST", job.path, job.body, job.headers);
        if (answer.status !== expect)
          throw new Error(`${job.path}: HTTP ${answer.status} ${answer.body.slice(0, 200)}`);
      }
    }),
  );
  return performance.now() - started;
}

export const percentile = (values: number[], p: number): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
};

export const round = (value: number, digits = 0) => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};
