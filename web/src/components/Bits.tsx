import type { ComponentChildren } from "preact";
import { href } from "../route.ts";
import type { Tag } from "../types.ts";

export function Tags({ tags, values }: { tags: readonly Tag[] | Record<string, string>; values?: readonly string[] | undefined }) {
  const list = Array.isArray(tags) ? tags : Object.entries(tags).map(([name, value]) => ({ name, value }));
  if (list.length === 0 && !values?.length) return <span class="muted">no tags</span>;
  return (
    <span class="tags">
      {list.map((t) => <span class="tag" key={`${t.name}=${t.value}`} title={`${t.name}=${t.value}`}>{t.name}={t.value}</span>)}
      {values?.map((v) => <span class="tag" key={`v:${v}`}>{v}</span>)}
    </span>
  );
}

export function Status({ status }: { status: string }) {
  return <span class={`badge s-${status.toLowerCase()}`}>{status}</span>;
}

export function Loading({ what }: { what: string }) {
  return <p class="muted" aria-busy="true">Loading {what}…</p>;
}

export function ErrorBox({ error }: { error: Error | undefined }) {
  if (!error) return null;
  return <p class="error" role="alert">{error.message}</p>;
}

export function Card({ title, children, id }: { title: string; children: ComponentChildren; id?: string }) {
  return (
    <section class="card" id={id}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

export const Link = ({ to, query, children }: { to: readonly string[]; query?: Record<string, string | undefined>; children: ComponentChildren }) => <a href={href(to, query)}>{children}</a>;

/** A table that scrolls sideways on narrow screens. */
export const Table = ({ children, label }: { children: ComponentChildren; label: string }) => (
  <div class="scroll"><table aria-label={label}>{children}</table></div>
);
