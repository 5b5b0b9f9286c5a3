// Helpers for the deploy/ tests: read YAML files the way kubectl does, validate objects
// against the Kubernetes OpenAPI schemas (kubernetes-models), and find fields that the
// schema does not know (which the schema validation alone lets through, because the
// Kubernetes OpenAPI schemas do not forbid additional properties; the API server's
// strict field validation would reject them, or silently drop them on older clusters).

import { parseAllDocuments } from "yaml";
import * as clientNode from "@kubernetes/client-node";
import { Namespace } from "kubernetes-models/v1/Namespace";
import { ServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import { ResourceQuota } from "kubernetes-models/v1/ResourceQuota";
import { Secret } from "kubernetes-models/v1/Secret";
import { Service } from "kubernetes-models/v1/Service";
import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { ClusterRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole";
import { ClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding";
import { ValidatingAdmissionPolicy } from "kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy";
import { ValidatingAdmissionPolicyBinding } from "kubernetes-models/admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding";
import { PodMonitor } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor";
import { PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";

/** A parsed YAML document: a Kubernetes object, a kustomization or a skaffold config. */
// deno-lint-ignore no-explicit-any
export type Doc = Record<string, any>;

/** Repository root, as a path ending in "/". */
export const REPO_ROOT = new URL("../../", import.meta.url).pathname;

/** deploy/, as a path ending in "/". */
export const DEPLOY_DIR = `${REPO_ROOT}deploy/`;

/**
 * Parses every document of a YAML stream. YAML 1.1 like kubectl (sigs.k8s.io/yaml), so
 * an unquoted `yes` or `on` is a boolean here too; duplicate keys and any parser warning
 * are errors. Empty documents (a trailing `---`) are dropped.
 */
export function parseYamlDocs(text: string, name: string): Doc[] {
  const docs = parseAllDocuments(text, { version: "1.1", uniqueKeys: true, prettyErrors: true });
  const out: Doc[] = [];
  for (const doc of docs) {
    const problems = [...doc.errors, ...doc.warnings];
    if (problems.length > 0) {
      throw new Error(`Cannot parse "${name}": ${problems.map((p) => p.message).join("; ")}`);
    }
    const value = doc.toJS();
    if (value === null || value === undefined) continue;
    if (typeof value !== "object" || Array.isArray(value)) {
      throw new Error(`Cannot parse "${name}": a document is not a mapping`);
    }
    out.push(value as Doc);
  }
  return out;
}

/** Reads and parses a YAML file (see `parseYamlDocs`). */
export async function readYamlDocs(path: string): Promise<Doc[]> {
  return parseYamlDocs(await Deno.readTextFile(path), path.replace(REPO_ROOT, ""));
}

/** Reads a YAML file that must hold exactly one document. */
export async function readYamlDoc(path: string): Promise<Doc> {
  const docs = await readYamlDocs(path);
  if (docs.length !== 1) {
    throw new Error(`Expected one document in "${path}": found ${docs.length}`);
  }
  return docs[0]!;
}

/** True for a Kubernetes object, false for kustomize and skaffold configs. */
export function isKubernetesObject(doc: Doc): boolean {
  const apiVersion = String(doc.apiVersion ?? "");
  return !apiVersion.startsWith("kustomize.config.k8s.io/") && !apiVersion.startsWith("skaffold/");
}

type Validatable = { validate(): void };
type ModelClass = new (data: Doc) => Validatable;

// The kinds deploy/ uses, by "apiVersion/kind". A manifest of any other kind fails
// `validateSchema` until it is added here.
const MODELS: Record<string, ModelClass> = {
  "v1/Namespace": Namespace as unknown as ModelClass,
  "v1/ServiceAccount": ServiceAccount as unknown as ModelClass,
  "v1/ResourceQuota": ResourceQuota as unknown as ModelClass,
  "v1/Secret": Secret as unknown as ModelClass,
  "v1/Service": Service as unknown as ModelClass,
  "apps/v1/DaemonSet": DaemonSet as unknown as ModelClass,
  "apps/v1/StatefulSet": StatefulSet as unknown as ModelClass,
  "apps/v1/Deployment": Deployment as unknown as ModelClass,
  "rbac.authorization.k8s.io/v1/ClusterRole": ClusterRole as unknown as ModelClass,
  "rbac.authorization.k8s.io/v1/ClusterRoleBinding": ClusterRoleBinding as unknown as ModelClass,
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicy":
    ValidatingAdmissionPolicy as unknown as ModelClass,
  "admissionregistration.k8s.io/v1/ValidatingAdmissionPolicyBinding":
    ValidatingAdmissionPolicyBinding as unknown as ModelClass,
  // Prometheus Operator CRDs (@kubernetes-models/prometheus-operator, from the CRD schemas).
  "monitoring.coreos.com/v1/PodMonitor": PodMonitor as unknown as ModelClass,
  "monitoring.coreos.com/v1/PrometheusRule": PrometheusRule as unknown as ModelClass,
  "networking.k8s.io/v1/NetworkPolicy": NetworkPolicy as unknown as ModelClass,
};

/**
 * Custom resources: @kubernetes-models/prometheus-operator validates them, but
 * @kubernetes/client-node has no type map for them, so unknownFields() cannot walk them.
 */
const CUSTOM_RESOURCE_GROUPS = new Set(["monitoring.coreos.com"]);

/** Identifies an object in messages: `DaemonSet "kube-soomkiller"`. */
export function describe(doc: Doc): string {
  return `${doc.kind} "${doc.metadata?.name ?? "?"}"`;
}

/**
 * Validates an object against its Kubernetes OpenAPI schema (types, required fields,
 * enums, formats) with kubernetes-models. Throws with every problem in the message.
 */
export function validateSchema(doc: Doc): void {
  const key = `${doc.apiVersion}/${doc.kind}`;
  const Model = MODELS[key];
  if (Model === undefined) {
    throw new Error(`No schema for "${key}": add its kubernetes-models class to MODELS`);
  }
  try {
    new Model(doc).validate();
  } catch (err) {
    throw new Error(`${describe(doc)} does not match the ${key} schema: ${(err as Error).message}`);
  }
}

type AttributeType = { baseName: string; type: string };
type TypedClass = { getAttributeTypeMap(): AttributeType[] };

const MODEL_TYPES = clientNode as unknown as Record<string, TypedClass | undefined>;

/** The @kubernetes/client-node class name of a top-level object: apps/v1 DaemonSet -> V1DaemonSet. */
function topLevelTypeName(doc: Doc): string {
  const version = String(doc.apiVersion).split("/").at(-1) ?? "";
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${doc.kind}`;
}

/**
 * Lists the fields of an object that its Kubernetes type does not have, as JSON paths
 * ("spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem"), using the
 * type map that @kubernetes/client-node generates from the same OpenAPI document.
 */
export function unknownFields(doc: Doc): string[] {
  if (CUSTOM_RESOURCE_GROUPS.has(String(doc.apiVersion).split("/")[0]!)) return [];
  const typeName = topLevelTypeName(doc);
  if (MODEL_TYPES[typeName] === undefined) {
    return [`(no @kubernetes/client-node type "${typeName}" for ${describe(doc)})`];
  }
  const found: string[] = [];
  walk(doc, typeName, "", found);
  return found;
}

function walk(value: unknown, type: string, path: string, found: string[]): void {
  if (value === null || value === undefined) return;
  const arrayOf = /^Array<(.+)>$/.exec(type);
  if (arrayOf) {
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, arrayOf[1]!, `${path}[${i}]`, found));
    return;
  }
  const mapOf = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (mapOf) {
    if (typeof value === "object") {
      for (const [k, v] of Object.entries(value)) walk(v, mapOf[1]!, `${path}[${k}]`, found);
    }
    return;
  }
  const model = MODEL_TYPES[type];
  if (model === undefined || typeof model.getAttributeTypeMap !== "function") return; // a scalar
  if (typeof value !== "object" || Array.isArray(value)) return; // the schema check reports it
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [key, child] of Object.entries(value)) {
    const childPath = path === "" ? key : `${path}.${key}`;
    const childType = attributes.get(key);
    if (childType === undefined) found.push(childPath);
    else walk(child, childType, childPath, found);
  }
}

/** Lists the files under a directory, recursively, as paths; sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir.replace(/\/$/, "")}/${entry.name}`;
    if (entry.isDirectory) out.push(...await listFiles(path));
    else if (entry.isFile) out.push(path);
  }
  return out.sort();
}

/** Runs a program and returns its exit code and its output, stdout and stderr together. */
export async function runCommand(
  name: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(name, {
    args,
    cwd: options.cwd,
    env: options.env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: out.code,
    stdout: decoder.decode(out.stdout),
    stderr: decoder.decode(out.stderr),
  };
}

/** Parses a Kubernetes quantity ("128Mi", "100m", "1G", "2") into a number of base units. */
export function parseQuantity(quantity: string | number): number {
  if (typeof quantity === "number") return quantity;
  const m = /^([0-9.]+)(Ki|Mi|Gi|Ti|Pi|Ei|m|k|M|G|T|P|E)?$/.exec(quantity);
  if (!m) throw new Error(`Cannot parse quantity "${quantity}"`);
  const factors: Record<string, number> = {
    "": 1,
    m: 1e-3,
    k: 1e3,
    M: 1e6,
    G: 1e9,
    T: 1e12,
    P: 1e15,
    E: 1e18,
    Ki: 2 ** 10,
    Mi: 2 ** 20,
    Gi: 2 ** 30,
    Ti: 2 ** 40,
    Pi: 2 ** 50,
    Ei: 2 ** 60,
  };
  return Number(m[1]) * factors[m[2] ?? ""]!;
}
