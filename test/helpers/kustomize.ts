import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";

const root = fileURLToPath(new URL("../..", import.meta.url));
export const KUSTOMIZE_DIR = join(root, "deploy", "kubernetes");

export interface K8sObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string; readonly annotations?: Record<string, string>; readonly labels?: Record<string, string> };
  readonly [key: string]: unknown;
}

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly valueFrom?: unknown;
}

export interface Probe {
  readonly httpGet?: { readonly path: string; readonly port: string | number };
}

export interface Container {
  readonly name: string;
  readonly image: string;
  readonly args?: string[];
  readonly env?: EnvVar[];
  readonly envFrom?: { readonly configMapRef?: { readonly name: string } }[];
  readonly ports?: { readonly name?: string; readonly containerPort: number }[];
  readonly readinessProbe?: Probe;
  readonly livenessProbe?: Probe;
  readonly startupProbe?: Probe;
  readonly volumeMounts?: { readonly name: string; readonly mountPath: string; readonly readOnly?: boolean }[];
  readonly securityContext?: { readonly readOnlyRootFilesystem?: boolean };
}

export interface PodSpec {
  readonly containers: Container[];
  readonly securityContext?: { readonly runAsUser?: number; readonly runAsGroup?: number; readonly fsGroup?: number };
  readonly terminationGracePeriodSeconds?: number;
  readonly volumes?: { readonly name: string; readonly [key: string]: unknown }[];
}

/** `kubectl kustomize deploy/kubernetes/<dir>`, as objects (the kubectl on the PATH: Debian's kubernetes-client in CI). */
export async function render(dir: string): Promise<K8sObject[]> {
  const { stdout } = await promisify(execFile)("kubectl", ["kustomize", join(KUSTOMIZE_DIR, dir)], { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
  return parseAllDocuments(stdout).map((d) => {
    if (d.errors.length > 0) throw new Error(`kubectl kustomize ${dir} printed YAML that does not parse: ${d.errors[0]?.message}`);
    return d.toJS() as K8sObject;
  }).filter((o) => o !== null);
}

export function find(objects: readonly K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in [${objects.map((x) => `${x.kind} ${x.metadata.name}`).join(", ")}]`);
  return o;
}

/** The configserver Deployment's pod spec and its server container. */
export function serverPod(objects: readonly K8sObject[]): { pod: PodSpec; container: Container } {
  const pod = (find(objects, "Deployment", "configserver") as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
  const container = pod.containers.find((c) => c.name === "configserver");
  if (!container) throw new Error("the configserver Deployment has no container named configserver");
  return { pod, container };
}

/**
 * The environment the server container gets: its ConfigMaps' data (envFrom, as rendered, with
 * kustomize's hashed names) and then its literal `env` values, which win as in Kubernetes.
 */
export function containerEnv(objects: readonly K8sObject[], container: Container): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    if (!from.configMapRef) throw new Error("envFrom other than a ConfigMap is not expected");
    Object.assign(env, (find(objects, "ConfigMap", from.configMapRef.name) as unknown as { data?: Record<string, string> }).data ?? {});
  }
  for (const e of container.env ?? []) {
    if (e.value === undefined) throw new Error(`env ${e.name} is not a literal value`);
    env[e.name] = e.value;
  }
  return env;
}

/** `20s` → 20 (the shutdown timeout in the container's arguments, in whole seconds). */
export function argSeconds(args: readonly string[], flag: string): number {
  const i = args.indexOf(flag);
  const value = i >= 0 ? args[i + 1] : args.find((a) => a.startsWith(`${flag}=`))?.slice(flag.length + 1);
  const m = /^(\d+)s$/.exec(value ?? "");
  if (!m) throw new Error(`${flag} is not given in whole seconds in ${JSON.stringify(args)}`);
  return Number(m[1]);
}
