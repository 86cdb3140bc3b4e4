import { ConfigError, UnauthorizedError } from "./errors";
import { constantTimeEqual } from "./signals/signature";

/** A bearer token for the HTTP API; `name` is how its holder appears in timelines (`api:<name>`). */
export interface ApiToken {
  name: string;
  token: string;
}

const MIN_TOKEN_LENGTH = 16;
const NAME = /^[A-Za-z0-9_.-]{1,40}$/;

/**
 * Reads `API_TOKENS`: comma-separated `name:token` pairs (a bare token is named `token1`,
 * `token2`...). Tokens shorter than 16 characters are refused: they could be guessed.
 */
export function parseApiTokens(text: string): ApiToken[] {
  const entries = text
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
  return entries.map((entry, index) => {
    const colon = entry.indexOf(":");
    const name = colon > 0 ? entry.slice(0, colon) : `token${index + 1}`;
    const token = colon > 0 ? entry.slice(colon + 1) : entry;
    if (!NAME.test(name)) {
      throw new ConfigError(
        `API_TOKENS[${index}]: the name may use letters, digits, '.', '_', '-'`,
      );
    }
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new ConfigError(
        `API_TOKENS[${index}] (${name}): a token needs at least ${MIN_TOKEN_LENGTH} characters`,
      );
    }
    return { name, token };
  });
}

/**
 * Finds the token an `Authorization: Bearer ...` header carries. Every token is compared, in
 * constant time, so the answer's timing says nothing about which or how much matched.
 * @throws UnauthorizedError when the header is missing, malformed or matches no token
 */
export function authenticateBearer(
  header: string | undefined,
  tokens: ReadonlyArray<ApiToken>,
): ApiToken {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!match)
    throw new UnauthorizedError("missing bearer token: send Authorization: Bearer <token>");
  const presented = match[1] as string;
  let found: ApiToken | undefined;
  for (const candidate of tokens) {
    if (constantTimeEqual(candidate.token, presented) && !found) found = candidate;
  }
  if (!found) throw new UnauthorizedError("invalid bearer token");
  return found;
}
