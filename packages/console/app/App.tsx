import { createContext } from "preact";
import { useCallback, useContext, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { type Api, createApi } from "./api";
import { IncidentList } from "./pages/IncidentList";
import { IncidentPage } from "./pages/IncidentPage";
import { SignIn } from "./pages/SignIn";
import { Silences } from "./pages/Silences";
import { SummaryPage } from "./pages/Summary";
import { href, type Route, useRoute } from "./route";
import { session } from "./session";

const ApiContext = createContext<Api | null>(null);

/** The signed-in API client; only pages under the shell call it. */
export function useApi(): Api {
  const api = useContext(ApiContext);
  if (!api) throw new Error("useApi outside the signed-in shell");
  return api;
}

export function App() {
  const [token, setToken] = useState(session.token);
  const [notice, setNotice] = useState<string | null>(null);
  const signOut = useCallback((message: string | null) => {
    session.clear();
    setNotice(message);
    setToken(null);
  }, []);
  const api = useMemo(
    () =>
      token
        ? createApi(token, {
            onUnauthorized: () =>
              signOut("The API no longer accepts this token (401). Sign in with a valid one."),
          })
        : null,
    [token, signOut],
  );

  if (!api) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(accepted) => {
          session.save(accepted);
          setNotice(null);
          setToken(accepted);
        }}
      />
    );
  }
  return (
    <ApiContext.Provider value={api}>
      <Shell onSignOut={() => signOut("Signed out.")} />
    </ApiContext.Provider>
  );
}

const TITLES: Record<Route["page"], string> = {
  incidents: "Incidents",
  incident: "Incident",
  silences: "Silences",
  summary: "Summary",
};

function Shell({ onSignOut }: { onSignOut: () => void }) {
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  const section = route.page === "incident" ? "incidents" : route.page;

  // A new page moves focus to its content, as a page load would (not on refreshes or filters):
  // the page's heading may not exist until its data arrives, the main region always does.
  const place = route.page === "incident" ? `incident:${route.id}` : route.page;
  useEffect(() => {
    document.title = `${TITLES[route.page]} · Firebreak`;
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
    scrollTo(0, 0);
  }, [place]);

  return (
    <>
      <button type="button" class="skip" onClick={skipToMain}>
        Skip to content
      </button>
      <header class="topbar">
        <a class="brand" href={href.incidents()}>
          <span class="brand-mark" aria-hidden="true" />
          Firebreak
        </a>
        <nav aria-label="Sections">
          <a href={href.incidents()} aria-current={section === "incidents" ? "page" : undefined}>
            Incidents
          </a>
          <a href={href.silences()} aria-current={section === "silences" ? "page" : undefined}>
            Silences
          </a>
          <a href={href.summary()} aria-current={section === "summary" ? "page" : undefined}>
            Summary
          </a>
        </nav>
        <button type="button" class="quiet" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {route.page === "incidents" && <IncidentList query={route.query} />}
        {route.page === "incident" && <IncidentPage id={route.id} />}
        {route.page === "silences" && <Silences />}
        {route.page === "summary" && <SummaryPage query={route.query} />}
      </main>
    </>
  );
}

/** A button, not a `#main` link: the fragment holds the route. */
function skipToMain() {
  document.getElementById("main")?.focus();
}
