// deploy/kubernetes/: both overlays (and the LoongCollector snippet) render with `kubectl
// kustomize`, every object validates against the Kubernetes API schema (kubernetes-models), and
// the rendered objects fit together: the Service reaches the server's port, the probes and the
// metrics annotations name real endpoints, the secrets' files are mounted where the settings
// point, and every overlay runs the image `make image` builds with the base's arguments, which
// test/container.test.ts runs the image with.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import test from "ava";
import { parse } from "yaml";
import { argSeconds, containerEnv, find, render, serverPod, type K8sObject } from "./helpers/kustomize.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

/** The kubernetes-models class for an object's apiVersion and kind (its module is named after the apiVersion). */
async function modelOf(o: K8sObject): Promise<new (data: unknown) => { validate(): void }> {
  const module = (await import(`kubernetes-models/${o.apiVersion}`)) as Record<string, unknown>;
  const model = module[o.kind];
  if (typeof model !== "function") throw new Error(`kubernetes-models has no ${o.apiVersion} ${o.kind}`);
  return model as new (data: unknown) => { validate(): void };
}

async function validate(o: K8sObject): Promise<string | undefined> {
  try {
    new (await modelOf(o))(o).validate();
    return undefined;
  } catch (e) {
    return `${o.kind} ${o.metadata.name}: ${(e as Error).message}`;
  }
}

/** The image `make image` tags by default (read from make's dry run, not copied). */
function makeImageName(): string {
  const dry = execFileSync("make", ["-s", "-n", "image"], { cwd: root, encoding: "utf8" });
  const m = / -t (\S+)/.exec(dry);
  if (!m?.[1]) throw new Error(`make -n image names no tag:\n${dry}`);
  return m[1];
}

const labelsMatch = (selector: Record<string, string>, labels: Record<string, string> | undefined) =>
  Object.keys(selector).length > 0 && Object.entries(selector).every(([k, v]) => labels?.[k] === v);

for (const dir of ["base", "single", "replicas", "loongcollector"]) {
  test(`${dir}: renders, and every object validates against the Kubernetes schema`, async (t) => {
    const objects = await render(dir);
    t.true(objects.length >= 2, `rendered ${objects.length} objects`);
    const problems = (await Promise.all(objects.map(validate))).filter((p) => p !== undefined);
    t.deepEqual(problems, []);
    t.log(objects.map((o) => `${o.apiVersion} ${o.kind} ${o.metadata.name}`).join("\n"));
  });
}

test("the validator refuses a broken object (so the check above can fail)", async (t) => {
  const objects = await render("single");
  const deployment = find(objects, "Deployment", "configserver") as unknown as { spec: Record<string, unknown> };
  const broken = { ...deployment, spec: { ...deployment.spec, replicas: "1" } } as unknown as K8sObject;
  t.regex((await validate(broken)) ?? "", /replicas must be integer/);
  const unknown = { apiVersion: "apps/v1", kind: "Deploymnet", metadata: { name: "x" } } as K8sObject;
  t.regex((await validate(unknown)) ?? "", /has no apps\/v1 Deploymnet/);
});

for (const overlay of ["single", "replicas"]) {
  test(`${overlay}: the Service, probes, metrics and secrets fit the server container; same image and arguments as the base`, async (t) => {
    const [objects, base] = await Promise.all([render(overlay), render("base")]);
    const { pod, container } = serverPod(objects);
    const deployment = find(objects, "Deployment", "configserver") as unknown as { metadata: { namespace?: string }; spec: { selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> } } } };
    const podLabels = deployment.spec.template.metadata.labels;

    t.is(container.image, makeImageName(), "the image `make image` builds");
    t.deepEqual(container.args, serverPod(base).container.args, "the arguments the container test runs the image with");
    t.is(container.args?.[0], "serve");
    t.true((pod.terminationGracePeriodSeconds ?? 30) > argSeconds(container.args ?? [], "--shutdown-timeout"), "Kubernetes waits longer than the server's own shutdown bound");
    t.is(deployment.metadata.namespace, "configserver");

    const http = container.ports?.find((p) => p.name === "http");
    t.is(http?.containerPort, 8899, "the port the image listens on");
    const service = find(objects, "Service", "configserver") as unknown as { spec: { selector: Record<string, string>; ports: { name: string; port: number; targetPort: string | number }[] } };
    t.true(labelsMatch(service.spec.selector, podLabels), "the Service selects the server's pods");
    t.true(labelsMatch(deployment.spec.selector.matchLabels, podLabels));
    t.deepEqual(service.spec.ports.map((p) => [p.port, p.targetPort]), [[8899, "http"]]);
    t.is(container.readinessProbe?.httpGet?.path, "/readyz");
    t.is(container.livenessProbe?.httpGet?.path, "/healthz");
    t.is(container.readinessProbe?.httpGet?.port, "http");
    const annotations = deployment.spec.template.metadata.annotations;
    t.is(annotations["prometheus.io/scrape"], "true");
    t.is(annotations["prometheus.io/path"], "/metrics");
    t.is(Number(annotations["prometheus.io/port"]), http?.containerPort ?? -1);

    // Every *_FILE setting names a file in a mounted Secret; the image's user owns nothing else it writes to.
    const env = containerEnv(objects, container);
    const files = Object.entries(env).filter(([k]) => k.endsWith("_FILE"));
    t.true(files.length >= 2, "the user token and the webhook secret come from files");
    for (const [name, path] of files) {
      const mount = container.volumeMounts?.find((m) => path.startsWith(`${m.mountPath}/`));
      const volume = pod.volumes?.find((v) => v.name === mount?.name);
      t.truthy(volume?.secret, `${name}=${path} is in a mounted Secret`);
      t.true(mount?.readOnly, `${name}'s volume is read-only`);
    }
    t.is(pod.securityContext?.runAsUser, 10001, "the image's user");
    t.is(pod.securityContext?.fsGroup, 10001, "volumes writable by the image's user");
    t.true(container.securityContext?.readOnlyRootFilesystem);
    t.truthy(container.volumeMounts?.find((m) => m.mountPath === "/data"), "the repository volume at the image's /data");
    t.regex(env.CONFIGSERVER_REMOTE ?? "", /^ssh:\/\//, "both overlays follow a remote");
    const ssh = pod.volumes?.find((v) => v.name === container.volumeMounts?.find((m) => m.mountPath === "/etc/configserver/ssh")?.name);
    t.truthy(ssh?.secret, "the deploy key and known_hosts come from a Secret at the path the image's ssh config reads");

    if (overlay === "single") {
      const spec = (find(objects, "Deployment", "configserver") as unknown as { spec: { replicas: number; strategy: { type: string } } }).spec;
      t.is(spec.replicas, 1);
      t.is(spec.strategy.type, "Recreate", "the ReadWriteOnce volume is released before the new pod starts");
      const data = pod.volumes?.find((v) => v.name === "data") as { persistentVolumeClaim?: { claimName: string }; emptyDir?: unknown } | undefined;
      t.is(data?.emptyDir, undefined);
      find(objects, "PersistentVolumeClaim", data?.persistentVolumeClaim?.claimName ?? "(none)");
      const ingress = find(objects, "Ingress", "configserver-webhook") as unknown as { spec: { rules: { http: { paths: { path: string; backend: { service: { name: string; port: { name: string } } } }[] } }[] } };
      const route = ingress.spec.rules[0]?.http.paths[0];
      t.is(route?.path, "/hooks/git");
      t.deepEqual(route?.backend.service, { name: "configserver", port: { name: "http" } });
      t.truthy(env.CONFIGSERVER_WEBHOOK_SECRET_FILE);
    } else {
      const spec = (find(objects, "Deployment", "configserver") as unknown as { spec: { replicas: number } }).spec;
      t.true(spec.replicas > 1);
      t.truthy((pod.volumes?.find((v) => v.name === "data") as { emptyDir?: unknown } | undefined)?.emptyDir, "each replica its own clone");
      const registry = new URL(env.CONFIGSERVER_REGISTRY ?? "");
      t.is(registry.protocol, "redis:");
      const redis = find(objects, "Service", registry.hostname) as unknown as { spec: { ports: { port: number }[]; selector: Record<string, string> } };
      t.is(redis.spec.ports[0]?.port, Number(registry.port));
      const redisPod = (find(objects, "Deployment", registry.hostname) as unknown as { spec: { template: { metadata: { labels: Record<string, string> } } } }).spec.template.metadata.labels;
      t.true(labelsMatch(redis.spec.selector, redisPod), "the Redis Service reaches the Redis pod");
      t.false(labelsMatch(service.spec.selector, redisPod), "agents are not sent to Redis");
      const pdb = find(objects, "PodDisruptionBudget", "configserver") as unknown as { spec: { selector: { matchLabels: Record<string, string> }; maxUnavailable?: number } };
      t.true(labelsMatch(pdb.spec.selector.matchLabels, podLabels));
      t.false(labelsMatch(pdb.spec.selector.matchLabels, redisPod));
      t.true((pdb.spec.maxUnavailable ?? 0) < spec.replicas);
    }
  });
}

test("loongcollector: the agents' settings file names the Service, with tags a template group selects", async (t) => {
  const [objects, single, replicas] = await Promise.all([render("loongcollector"), render("single"), render("replicas")]);
  const config = find(objects, "ConfigMap", "loongcollector-config") as unknown as { data: Record<string, string> };
  const settings = JSON.parse(config.data["loongcollector_config.json"] ?? "") as { config_server_list: { endpoint_list: string[] }[]; ilogtail_tags: Record<string, string> };
  for (const server of [single, replicas]) {
    const service = find(server, "Service", "configserver") as unknown as { metadata: { namespace: string }; spec: { ports: { port: number }[] } };
    t.deepEqual(settings.config_server_list.flatMap((c) => c.endpoint_list), [`configserver.${service.metadata.namespace}.svc.cluster.local:${service.spec.ports[0]?.port}`]);
  }
  const groupsDir = join(root, "config-repo-template", "agent_groups");
  const selecting = readdirSync(groupsDir).map((f) => parse(readFileSync(join(groupsDir, f), "utf8")) as { group_name: string; tags: { name: string; value: string }[] })
    .filter((g) => g.tags.some((tag) => settings.ilogtail_tags[tag.name] === tag.value)).map((g) => g.group_name);
  t.deepEqual(selecting, ["k8s-nodes"]);
  const ds = find(objects, "DaemonSet", "loongcollector-ds") as unknown as { spec: { template: { spec: { containers: { volumeMounts: { name: string; mountPath: string; subPath?: string }[] }[]; volumes: { name: string; configMap?: { name: string } }[] } } } };
  const podSpec = ds.spec.template.spec;
  const mount = podSpec.containers[0]?.volumeMounts.find((m) => m.subPath === "loongcollector_config.json");
  t.regex(mount?.mountPath ?? "", /\/conf\/instance_config\/local\/loongcollector_config\.json$/);
  t.is(podSpec.volumes.find((v) => v.name === mount?.name)?.configMap?.name, "loongcollector-config");
});
