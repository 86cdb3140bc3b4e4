/**
 * The API token lives in sessionStorage: gone when the tab closes, never in a URL, a cookie or
 * localStorage.
 */
const KEY = "firebreak.token";

export const session = {
  token(): string | null {
    try {
      return sessionStorage.getItem(KEY);
    } catch {
      return null;
    }
  },
  save(token: string): void {
    sessionStorage.setItem(KEY, token);
  },
  clear(): void {
    try {
      sessionStorage.removeItem(KEY);
    } catch {
      // Storage blocked: there is nothing to clear.
    }
  },
};
