import type { ComponentChildren } from "preact";
import { useEffect, useId, useRef } from "preact/hooks";

/** A modal dialog (the browser's own <dialog>): Escape or Cancel closes it, unless it is `required`. */
export function Dialog({ open, title, children, onClose, required = false }: { open: boolean; title: string; children: ComponentChildren; onClose: () => void; required?: boolean }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog ref={ref} onClose={onClose} onCancel={(e) => required && e.preventDefault()} aria-labelledby={titleId}>
      <h2 id={titleId}>{title}</h2>
      {open && children}
    </dialog>
  );
}
