import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { loadConfig } from '../../src/config/app-config';
import { SECRET_ENV_NAMES } from '../../src/config/env.schema';
import { callBudgetMs } from '../../src/pexip/pexip-retry.policy';
import { unknownEnvNames } from './support/env-names';
import { REPO_ROOT } from './support/image-build';

// The manifests are read as Kubernetes would read them, then checked
// against the service itself: every variable name against the
// configuration schema, the whole environment against start-up validation,
// the probes against the routes, and the grace period against the
// service's own shutdown deadline.

type Manifest = Record<string, any>;

const BASE = join(REPO_ROOT, 'deploy', 'kubernetes', 'base');
const OVERLAY = join(
  REPO_ROOT,
  'deploy',
  'kubernetes',
  'overlays',
  'single-instance-sqlite',
);

// Measured on the compiled service (deploy/README.md): resident memory when
// idle with a full pool, and at the peak of a burst of creates and lists.
const MEASURED_IDLE_MIB = 98;
const MEASURED_PEAK_MIB = 251;

function readManifests(folder: string, file: string): Manifest[] {
  const documents = parseAllDocuments(readFileSync(join(folder, file), 'utf8'));
  const errors = documents.flatMap((document) => document.errors);
  if (errors.length > 0) throw new Error(`${file}: ${errors.join('; ')}`);
  return documents.map((document) => document.toJS() as Manifest);
}

function kustomization(folder: string): Manifest {
  return readManifests(folder, 'kustomization.yaml')[0];
}

/** Every object of the base, from the files its kustomization lists. */
const baseObjects: Manifest[] = (
  kustomization(BASE).resources as string[]
).flatMap((file) => readManifests(BASE, file));

function one(objects: Manifest[], kind: string): Manifest {
  const matches = objects.filter((object) => object.kind === kind);
  if (matches.length !== 1) {
    throw new Error(`expected one ${kind}, found ${matches.length}`);
  }
  return matches[0];
}

const deployment = one(baseObjects, 'Deployment');
const configMap = one(baseObjects, 'ConfigMap');
const secret = one(baseObjects, 'Secret');
const services = baseObjects.filter((object) => object.kind === 'Service');
const service = services.find((s) => s.metadata.name === 'maxconf')!;
const eventService = services.find(
  (s) => s.metadata.name === 'maxconf-events',
)!;
const budget = one(baseObjects, 'PodDisruptionBudget');
const pod = deployment.spec.template.spec;
const container = pod.containers[0];

/** `192Mi` → 192; `1Gi` → 1024. */
function mebibytes(quantity: string): number {
  const match = /^(\d+)(Mi|Gi)$/.exec(quantity);
  if (!match) throw new Error(`unexpected memory quantity ${quantity}`);
  return Number(match[1]) * (match[2] === 'Gi' ? 1024 : 1);
}

describe('Kubernetes base manifests', () => {
  it('hold a Deployment, two Services, ConfigMap, Secret and PodDisruptionBudget, all listed in the kustomization', () => {
    const files = readdirSync(BASE).filter(
      (file) => file.endsWith('.yaml') && file !== 'kustomization.yaml',
    );

    expect([...kustomization(BASE).resources].sort()).toEqual(files.sort());
    expect(baseObjects.map((object) => object.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'PodDisruptionBudget',
      'Secret',
      'Service',
      'Service',
    ]);
  });

  it('run several replicas only on the shared Azure queue store', () => {
    expect(deployment.spec.replicas).toBeGreaterThan(1);
    expect(configMap.data.QUEUE_BACKEND).toBe('azure');
  });

  it('probe liveness on /public/health and readiness on /public/health/ready, at the port the service listens on', () => {
    const port = container.ports.find((p: Manifest) => p.name === 'http');

    expect(port.containerPort).toBe(Number(configMap.data.PORT));
    expect(container.livenessProbe.httpGet).toEqual({
      path: '/public/health',
      port: 'http',
    });
    expect(container.startupProbe.httpGet).toEqual({
      path: '/public/health',
      port: 'http',
    });
    expect(container.readinessProbe.httpGet).toEqual({
      path: '/public/health/ready',
      port: 'http',
    });
  });

  it('run as non-root with a read-only root, no capabilities, no privilege escalation and the default seccomp profile', () => {
    expect(pod.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(container.securityContext).toEqual({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
  });

  it('give the read-only container a scratch /tmp', () => {
    const mount = container.volumeMounts.find(
      (m: Manifest) => m.mountPath === '/tmp',
    );
    const volume = pod.volumes.find((v: Manifest) => v.name === mount?.name);

    expect(volume?.emptyDir).toBeDefined();
  });

  it('request more memory than the service uses idle and limit it well above the measured peak', () => {
    const { requests, limits } = container.resources;

    expect(mebibytes(requests.memory)).toBeGreaterThan(MEASURED_IDLE_MIB);
    expect(mebibytes(limits.memory)).toBeGreaterThanOrEqual(
      1.5 * MEASURED_PEAK_MIB,
    );
    expect(requests.cpu).toBeDefined();
    expect(limits.cpu).toBeDefined();
  });

  it("wait longer before killing a pod than the service's own shutdown deadline", () => {
    const graceMs = Number(configMap.data.SHUTDOWN_GRACE_MS ?? 5_000);
    const timeoutMs = Number(configMap.data.PEXIP_TIMEOUT_MS ?? 10_000);
    // main.ts exits by itself, work unfinished, after this long.
    const serviceDeadlineMs = graceMs + 3 * callBudgetMs(timeoutMs);

    expect(pod.terminationGracePeriodSeconds * 1_000).toBeGreaterThan(
      serviceDeadlineMs,
    );
  });

  it('take the whole environment from the ConfigMap and the Secret, and only names the service reads', () => {
    const inline = (container.env ?? []).map((e: Manifest) => e.name);

    expect(container.envFrom).toEqual([
      { configMapRef: { name: configMap.metadata.name } },
      { secretRef: { name: secret.metadata.name } },
    ]);
    expect(
      unknownEnvNames([
        ...inline,
        ...Object.keys(configMap.data),
        ...Object.keys(secret.stringData),
      ]),
    ).toEqual([]);
  });

  it('keep every secret in the Secret, as placeholders, and none in the ConfigMap', () => {
    const secretNames = Object.keys(secret.stringData);

    expect(secretNames.sort()).toEqual([
      'AZURE_STORAGE_CONNECTION_STRING',
      'EVENT_SINK_PASSWORD',
      'PEXIP_PASSWORD',
    ]);
    expect(
      secretNames.every((name) => SECRET_ENV_NAMES.has(name as never)),
    ).toBe(true);
    expect(
      Object.keys(configMap.data).filter((name) =>
        SECRET_ENV_NAMES.has(name as never),
      ),
    ).toEqual([]);
    for (const value of Object.values<string>(secret.stringData)) {
      expect(value).toContain('REPLACE_ME');
    }
  });

  it('form a configuration that passes the production start-up checks', () => {
    const config = loadConfig({ ...configMap.data, ...secret.stringData });

    expect(config.nodeEnv).toBe('production');
    expect(config.auth.mode).toBe('jwt');
    expect(config.queue.backend).toBe('azure');
  });

  it('keep a Service for the event sink that also reaches pods that are not ready', () => {
    // Readiness follows Pexip; events must still arrive while it is down.
    expect(eventService.spec.publishNotReadyAddresses).toBe(true);
    expect(service.spec.publishNotReadyAddresses).toBeUndefined();
    expect(eventService.spec.selector).toEqual(service.spec.selector);
    expect(eventService.spec.ports[0].targetPort).toBe('http');
  });

  it('route the Service and the disruption budget to the pods of the Deployment', () => {
    const podLabels = deployment.spec.template.metadata.labels;

    expect(deployment.spec.selector.matchLabels).toEqual(podLabels);
    expect(service.spec.selector).toEqual(podLabels);
    expect(service.spec.ports[0].targetPort).toBe('http');
    expect(budget.spec.selector.matchLabels).toEqual(podLabels);
  });

  it('let a node drain proceed one pod at a time without emptying the service', () => {
    expect(budget.spec.maxUnavailable).toBe(1);
    expect(
      deployment.spec.replicas - budget.spec.maxUnavailable,
    ).toBeGreaterThanOrEqual(1);
    expect(deployment.spec.strategy.rollingUpdate.maxUnavailable).toBe(0);
  });

  it('set the image through the kustomization', () => {
    const images = kustomization(BASE).images as Manifest[];

    expect(images.map((image) => image.name)).toEqual([container.image]);
  });
});

describe('Kubernetes single-instance SQLite overlay', () => {
  const overlay = kustomization(OVERLAY);
  const patches = overlay.patches as Manifest[];
  const filePatch = (kind: string) =>
    patches
      .filter((patch) => patch.path)
      .flatMap((patch) => readManifests(OVERLAY, patch.path))
      .find((object) => object.kind === kind)!;
  const claim = one(
    (overlay.resources as string[])
      .filter((resource) => resource.endsWith('.yaml'))
      .flatMap((file) => readManifests(OVERLAY, file)),
    'PersistentVolumeClaim',
  );
  const deploymentPatch = filePatch('Deployment');
  const configMapPatch = filePatch('ConfigMap');

  it('builds on the base and patches only objects the base has', () => {
    expect(overlay.resources).toContain('../../base');
    for (const object of [deploymentPatch, configMapPatch]) {
      expect(
        baseObjects.some(
          (base) =>
            base.kind === object.kind &&
            base.metadata.name === object.metadata.name,
        ),
      ).toBe(true);
    }
  });

  it('runs exactly one pod and never two at once, even during an update', () => {
    expect(deploymentPatch.spec.replicas).toBe(1);
    expect(deploymentPatch.spec.strategy).toEqual({
      type: 'Recreate',
      rollingUpdate: null,
    });
  });

  it('keeps the SQLite file on the persistent volume claim', () => {
    const patchedPod = deploymentPatch.spec.template.spec;
    const mount = patchedPod.containers[0].volumeMounts[0];
    const volume = patchedPod.volumes.find(
      (v: Manifest) => v.name === mount.name,
    );

    expect(patchedPod.containers[0].name).toBe(container.name);
    expect(volume.persistentVolumeClaim.claimName).toBe(claim.metadata.name);
    expect(
      configMapPatch.data.SQLITE_PATH.startsWith(`${mount.mountPath}/`),
    ).toBe(true);
  });

  it('forms a production configuration on SQLite without the storage account', () => {
    const removed = patches
      .filter((patch) => patch.target?.kind === 'Secret')
      .flatMap((patch) => readManifestsFromText(patch.patch))
      .flat() as Manifest[];
    const secretData = { ...secret.stringData };
    for (const operation of removed) {
      expect(operation.op).toBe('remove');
      delete secretData[operation.path.replace('/stringData/', '')];
    }
    const env = { ...configMap.data, ...configMapPatch.data, ...secretData };

    expect(unknownEnvNames(Object.keys(configMapPatch.data))).toEqual([]);
    expect(env.AZURE_STORAGE_CONNECTION_STRING).toBeUndefined();
    const config = loadConfig(env);
    expect(config.queue.backend).toBe('sqlite');
    expect(config.queue.sqlitePath).toBe('/app/data/maxconf.db');
  });
});

function readManifestsFromText(text: string): unknown[] {
  return parseAllDocuments(text).map((document) => document.toJS());
}
