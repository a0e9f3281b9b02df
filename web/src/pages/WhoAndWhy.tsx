import { useState } from "preact/hooks";
import type { WriteMeta } from "../api.ts";
import { usePoll } from "../poll.ts";

// Who you are is not a secret and is handy across visits; the token is never kept here.
const AUTHOR_KEY = "configserver.author";

function remembered(): { authorName: string; authorEmail: string } {
  try {
    const v = JSON.parse(localStorage.getItem(AUTHOR_KEY) ?? "{}") as Record<string, unknown>;
    return { authorName: typeof v.authorName === "string" ? v.authorName : "", authorEmail: typeof v.authorEmail === "string" ? v.authorEmail : "" };
  } catch {
    return { authorName: "", authorEmail: "" };
  }
}

export interface WhoAndWhyState {
  readonly value: WriteMeta;
  set(v: Partial<WriteMeta>): void;
  clearMessage(): void;
}

export function useWhoAndWhy(): WhoAndWhyState {
  const [value, setValue] = useState<WriteMeta>(() => ({ ...remembered(), message: "" }));
  return {
    value,
    set: (v) => {
      const next = { ...value, ...v };
      setValue(next);
      if (v.authorName !== undefined || v.authorEmail !== undefined) localStorage.setItem(AUTHOR_KEY, JSON.stringify({ authorName: next.authorName, authorEmail: next.authorEmail }));
    },
    clearMessage: () => setValue((s) => ({ ...s, message: "" })),
  };
}

interface WhoAmI {
  readonly token: { readonly name: string; readonly role: string; readonly identity: string | null; readonly setsAuthor: boolean } | null;
}

/**
 * The commit message and author of a write: every change is one commit that says who and why.
 * A token whose author header the server ignores commits as its own identity: that is shown
 * instead of the author fields.
 */
export function WhoAndWhy({ state, placeholder, disabled }: { state: WhoAndWhyState; placeholder: string; disabled?: boolean }) {
  const v = state.value;
  const me = usePoll<WhoAmI>("/api/v1/whoami", 60_000).data?.token;
  const fixed = me && !me.setsAuthor ? me : undefined;
  return (
    <fieldset class="who" disabled={disabled}>
      <label class="wide">Commit message <input name="message" value={v.message} placeholder={placeholder} maxLength={4096} onInput={(e) => state.set({ message: e.currentTarget.value })} /></label>
      {fixed ? (
        <p class="committed-as">Committed as <strong>{fixed.identity ?? "the server's identity"}</strong>, the identity of the token “{fixed.name}” ({fixed.role}).</p>
      ) : (
        <>
          <label>Author name <input name="authorName" value={v.authorName} placeholder="Jane Doe" autocomplete="name" onInput={(e) => state.set({ authorName: e.currentTarget.value })} /></label>
          <label>Author email <input name="authorEmail" type="email" value={v.authorEmail} placeholder="jane@example.com" autocomplete="email" onInput={(e) => state.set({ authorEmail: e.currentTarget.value })} /></label>
        </>
      )}
    </fieldset>
  );
}
