import { lstatSync } from "node:fs";
import { join } from "node:path";
import { DomainError } from "../domain/errors.ts";

/**
 * Refuses to write `path` (relative to the working tree) unless every component that exists is a
 * real folder (and the file itself, if present, a regular file): a state folder replaced by a
 * symbolic link would otherwise have the server write wherever the link points. lstat, not stat:
 * a link is judged as itself, never followed. Missing components are fine (they are created as
 * real folders).
 */
export function assertWritablePath(workTree: string, path: string): void {
  const parts = path.split("/");
  let rel = "";
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (part === "" || part === "." || part === "..") throw new DomainError("InvalidParameter", `Refusing to write ${path}: not a plain path inside the repository.`);
    rel = rel ? `${rel}/${part}` : part;
    const st = lstatSync(join(workTree, rel), { throwIfNoEntry: false });
    if (st === undefined) return;
    const last = i === parts.length - 1;
    if (st.isSymbolicLink() || (last ? !st.isFile() : !st.isDirectory())) {
      const what = st.isSymbolicLink() ? "a symbolic link" : last ? "not a regular file" : "not a folder";
      throw new DomainError("Forbidden", `Refusing to write ${path}: ${rel} in the server's working tree is ${what}; the server writes only regular folders and files inside the repository. Replace it with a real ${last ? "file" : "folder"} (or restore it: git checkout -- ${rel}).`);
    }
  }
}
