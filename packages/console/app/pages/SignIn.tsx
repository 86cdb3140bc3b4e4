import { useState } from "preact/hooks";
import { ApiError, createApi, UnauthorizedError } from "../api";

interface Props {
  /** Why the reader is here again (signed out, token revoked). */
  notice: string | null;
  onSignedIn: (token: string) => void;
}

/** The token is checked against the API before it is kept. */
export function SignIn({ notice, onSignedIn }: Props) {
  const [token, setToken] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: SubmitEvent) {
    event.preventDefault();
    const candidate = token.trim();
    if (!candidate) {
      setError("Enter an API token.");
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await createApi(candidate).incidents(
        { status: "open", severity: "", source: "", service: "" },
        1,
      );
      onSignedIn(candidate);
    } catch (failure) {
      setError(signInError(failure));
      setBusy(false);
    }
  }

  return (
    <main class="signin" id="main">
      <form class="card signin-card" method="post" onSubmit={submit} noValidate>
        <h1>
          <span class="brand-mark" aria-hidden="true" /> Firebreak
        </h1>
        <p class="muted">The incident console. Sign in with an API token.</p>
        {notice && !error && (
          <p class="banner info" role="status">
            {notice}
          </p>
        )}
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          required
          value={token}
          onInput={(event) => setToken(event.currentTarget.value)}
          aria-invalid={error ? "true" : undefined}
          aria-describedby={error ? "token-error" : "token-help"}
        />
        <p id="token-help" class="hint">
          Kept in this tab only (session storage) and sent as a bearer token. Never put in a URL.
        </p>
        {error && (
          <p id="token-error" class="banner error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Checking…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}

function signInError(failure: unknown): string {
  if (failure instanceof UnauthorizedError) {
    return `That token was not accepted (401: ${failure.message}). Check it and try again.`;
  }
  if (failure instanceof ApiError && failure.status === 0) {
    return `Could not reach the API: ${failure.message}. Is the stack running?`;
  }
  if (failure instanceof ApiError) return `The API refused: ${failure.message}`;
  return "Sign-in failed unexpectedly.";
}
