// The management API's OpenAPI document (openapi/management.json) and the
// validators that hold real responses to it.
//
//   loadDocument()                  the parsed document
//   checkDocument(doc)              throws unless doc is a usable OpenAPI 3.1 document
//   validateResponse(doc, response) throws unless the response is documented and its
//                                   body matches; returns the operationId
//
// Schemas are JSON Schema 2020-12 (the OpenAPI 3.1 dialect), checked with
// Ajv2020 and ajv-formats. Nothing here starts a server.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

export const DOCUMENT_PATH = resolve(
  dirname(fileURLToPath(import.meta.url)),
  "../../openapi/management.json",
);

const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
/** The id the document is registered under in Ajv; its `#/...` refs resolve against it. */
const BASE = "https://keygate.invalid/openapi/management.json";

/** The parsed document from the repository. */
export function loadDocument() {
  return JSON.parse(readFileSync(DOCUMENT_PATH, "utf8"));
}

// ---- structural check --------------------------------------------------------

// A compact meta-schema for the parts of OpenAPI 3.1 this project uses.
// Extensions (`x-*`) are allowed wherever OpenAPI allows them.
const EXT = { "^x-": true };
const META = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  required: ["openapi", "info", "paths"],
  properties: {
    openapi: { type: "string", pattern: "^3\\.1\\.\\d+$" },
    info: {
      type: "object",
      required: ["title", "version"],
      properties: {
        title: { type: "string", minLength: 1 },
        version: { type: "string", minLength: 1 },
        summary: { type: "string" },
        description: { type: "string" },
        termsOfService: { type: "string" },
        contact: { type: "object" },
        license: { type: "object" },
      },
      patternProperties: EXT,
      additionalProperties: false,
    },
    jsonSchemaDialect: { type: "string" },
    servers: { type: "array", items: { $ref: "#/$defs/server" } },
    paths: {
      type: "object",
      patternProperties: { "^/": { $ref: "#/$defs/pathItem" }, ...EXT },
      additionalProperties: false,
    },
    webhooks: { type: "object" },
    components: {
      type: "object",
      properties: {
        schemas: { type: "object", additionalProperties: { type: ["object", "boolean"] } },
        responses: { $ref: "#/$defs/map", additionalProperties: { $ref: "#/$defs/responseOrRef" } },
        parameters: { $ref: "#/$defs/map", additionalProperties: { $ref: "#/$defs/parameterOrRef" } },
        requestBodies: { $ref: "#/$defs/map", additionalProperties: { $ref: "#/$defs/requestBodyOrRef" } },
        headers: { $ref: "#/$defs/map", additionalProperties: { $ref: "#/$defs/headerOrRef" } },
        securitySchemes: { $ref: "#/$defs/map", additionalProperties: { $ref: "#/$defs/securityScheme" } },
        examples: { type: "object" },
        links: { type: "object" },
        callbacks: { type: "object" },
        pathItems: { $ref: "#/$defs/map", additionalProperties: { $ref: "#/$defs/pathItem" } },
      },
      patternProperties: EXT,
      additionalProperties: false,
    },
    security: { $ref: "#/$defs/security" },
    tags: {
      type: "array",
      items: {
        type: "object",
        required: ["name"],
        properties: { name: { type: "string" }, description: { type: "string" }, externalDocs: { type: "object" } },
        patternProperties: EXT,
        additionalProperties: false,
      },
    },
    externalDocs: { type: "object" },
  },
  patternProperties: EXT,
  additionalProperties: false,
  $defs: {
    map: { type: "object", propertyNames: { pattern: "^[a-zA-Z0-9._-]+$" } },
    ref: {
      type: "object",
      required: ["$ref"],
      properties: {
        $ref: { type: "string", format: "uri-reference" },
        summary: { type: "string" },
        description: { type: "string" },
      },
      additionalProperties: false,
    },
    schema: { type: ["object", "boolean"] },
    server: {
      type: "object",
      required: ["url"],
      properties: { url: { type: "string" }, description: { type: "string" }, variables: { type: "object" } },
      patternProperties: EXT,
      additionalProperties: false,
    },
    security: {
      type: "array",
      items: { type: "object", additionalProperties: { type: "array", items: { type: "string" } } },
    },
    pathItem: {
      type: "object",
      properties: {
        $ref: { type: "string" },
        summary: { type: "string" },
        description: { type: "string" },
        servers: { type: "array", items: { $ref: "#/$defs/server" } },
        parameters: { $ref: "#/$defs/parameters" },
        ...Object.fromEntries(METHODS.map((m) => [m, { $ref: "#/$defs/operation" }])),
      },
      patternProperties: EXT,
      additionalProperties: false,
    },
    operation: {
      type: "object",
      required: ["responses"],
      properties: {
        tags: { type: "array", items: { type: "string" } },
        summary: { type: "string" },
        description: { type: "string" },
        externalDocs: { type: "object" },
        operationId: { type: "string", minLength: 1 },
        parameters: { $ref: "#/$defs/parameters" },
        requestBody: { $ref: "#/$defs/requestBodyOrRef" },
        responses: {
          type: "object",
          minProperties: 1,
          patternProperties: {
            "^([1-5](\\d\\d|XX)|default)$": { $ref: "#/$defs/responseOrRef" },
            ...EXT,
          },
          additionalProperties: false,
        },
        callbacks: { type: "object" },
        deprecated: { type: "boolean" },
        security: { $ref: "#/$defs/security" },
        servers: { type: "array", items: { $ref: "#/$defs/server" } },
      },
      patternProperties: EXT,
      additionalProperties: false,
    },
    parameters: { type: "array", items: { $ref: "#/$defs/parameterOrRef" } },
    parameterOrRef: { if: { required: ["$ref"] }, then: { $ref: "#/$defs/ref" }, else: { $ref: "#/$defs/parameter" } },
    parameter: {
      type: "object",
      required: ["name", "in"],
      properties: {
        name: { type: "string", minLength: 1 },
        in: { enum: ["query", "header", "path", "cookie"] },
        description: { type: "string" },
        required: { type: "boolean" },
        deprecated: { type: "boolean" },
        allowEmptyValue: { type: "boolean" },
        style: { type: "string" },
        explode: { type: "boolean" },
        allowReserved: { type: "boolean" },
        schema: { $ref: "#/$defs/schema" },
        content: { $ref: "#/$defs/content" },
        example: true,
        examples: { type: "object" },
      },
      oneOf: [{ required: ["schema"] }, { required: ["content"] }],
      if: { properties: { in: { const: "path" } } },
      then: { required: ["required"], properties: { required: { const: true } } },
      patternProperties: EXT,
      additionalProperties: false,
    },
    requestBodyOrRef: { if: { required: ["$ref"] }, then: { $ref: "#/$defs/ref" }, else: { $ref: "#/$defs/requestBody" } },
    requestBody: {
      type: "object",
      required: ["content"],
      properties: {
        description: { type: "string" },
        content: { $ref: "#/$defs/content" },
        required: { type: "boolean" },
      },
      patternProperties: EXT,
      additionalProperties: false,
    },
    responseOrRef: { if: { required: ["$ref"] }, then: { $ref: "#/$defs/ref" }, else: { $ref: "#/$defs/response" } },
    response: {
      type: "object",
      required: ["description"],
      properties: {
        description: { type: "string" },
        headers: { type: "object", additionalProperties: { $ref: "#/$defs/headerOrRef" } },
        content: { $ref: "#/$defs/content" },
        links: { type: "object" },
      },
      patternProperties: EXT,
      additionalProperties: false,
    },
    headerOrRef: { if: { required: ["$ref"] }, then: { $ref: "#/$defs/ref" }, else: { $ref: "#/$defs/header" } },
    header: {
      type: "object",
      properties: {
        description: { type: "string" },
        required: { type: "boolean" },
        deprecated: { type: "boolean" },
        style: { const: "simple" },
        explode: { type: "boolean" },
        schema: { $ref: "#/$defs/schema" },
        content: { $ref: "#/$defs/content" },
        example: true,
        examples: { type: "object" },
      },
      oneOf: [{ required: ["schema"] }, { required: ["content"] }],
      patternProperties: EXT,
      additionalProperties: false,
    },
    content: {
      type: "object",
      propertyNames: { pattern: "^[a-z*]+/[a-z0-9.+*-]+$" },
      additionalProperties: {
        type: "object",
        properties: {
          schema: { $ref: "#/$defs/schema" },
          example: true,
          examples: { type: "object" },
          encoding: { type: "object" },
        },
        patternProperties: EXT,
        additionalProperties: false,
      },
    },
    securityScheme: {
      type: "object",
      required: ["type"],
      properties: {
        type: { enum: ["apiKey", "http", "mutualTLS", "oauth2", "openIdConnect"] },
        description: { type: "string" },
        name: { type: "string" },
        in: { enum: ["query", "header", "cookie"] },
        scheme: { type: "string" },
        bearerFormat: { type: "string" },
        flows: { type: "object" },
        openIdConnectUrl: { type: "string" },
      },
      allOf: [
        { if: { properties: { type: { const: "http" } } }, then: { required: ["scheme"] } },
        { if: { properties: { type: { const: "apiKey" } } }, then: { required: ["name", "in"] } },
      ],
      patternProperties: EXT,
      additionalProperties: false,
    },
  },
};

let metaValidator;
function metaValidate(doc) {
  if (!metaValidator) {
    // Strict, except that untyped `if: { required: [...] }` branches are intended.
    const ajv = new Ajv2020({ strict: true, strictTypes: false, strictRequired: false, allErrors: true });
    addFormats(ajv);
    metaValidator = ajv.compile(META);
  }
  if (!metaValidator(doc)) {
    throw new Error(`not an OpenAPI 3.1 document:\n${formatErrors(metaValidator.errors)}`);
  }
}

const escapePointer = (s) => String(s).replaceAll("~", "~0").replaceAll("/", "~1");
const unescapePointer = (s) => s.replaceAll("~1", "/").replaceAll("~0", "~");
const pointer = (parts) => "#" + parts.map((p) => "/" + escapePointer(p)).join("");

/** The value at a local `#/...` reference, or undefined. */
function resolvePointer(doc, ref) {
  if (ref === "#") return doc;
  if (!ref.startsWith("#/")) return undefined;
  let node = doc;
  for (const raw of ref.slice(2).split("/")) {
    let part;
    try {
      part = unescapePointer(decodeURIComponent(raw));
    } catch {
      return undefined;
    }
    if (node === null || typeof node !== "object" || !Object.hasOwn(node, part)) return undefined;
    node = node[part];
  }
  return node;
}

/** Calls `visit(value, path)` for every `$ref` string in the document. */
function eachRef(node, visit, path = []) {
  if (Array.isArray(node)) {
    node.forEach((v, i) => eachRef(v, visit, [...path, i]));
  } else if (node !== null && typeof node === "object") {
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") visit(v, path);
      else eachRef(v, visit, [...path, k]);
    }
  }
}

/**
 * Follows `$ref`s (components.responses, components.parameters, ...) to an
 * object; `ptr` is the last reference followed, or null if there was none.
 */
function deref(doc, node, where) {
  const seen = new Set();
  let ptr = null;
  while (node && typeof node === "object" && typeof node.$ref === "string") {
    if (seen.has(node.$ref)) throw new Error(`${where}: $ref cycle through ${node.$ref}`);
    seen.add(node.$ref);
    ptr = node.$ref;
    const target = resolvePointer(doc, node.$ref);
    if (target === undefined) throw new Error(`${where}: $ref ${node.$ref} does not resolve`);
    node = target;
  }
  return { node, ptr };
}

/** An Ajv2020 holding `doc` under BASE, with formats; cached per document. */
const compiled = new WeakMap();
function ajvFor(doc) {
  let entry = compiled.get(doc);
  if (!entry) {
    const ajv = new Ajv2020({ strict: false, allErrors: true, verbose: true });
    addFormats(ajv);
    // Register the whole document: every `#/components/...` ref in any of
    // its schemas then resolves against it, and a schema anywhere in it can
    // be compiled by pointer.
    ajv.addSchema(doc, BASE);
    entry = { ajv, validators: new Map(), matchers: null };
    compiled.set(doc, entry);
  }
  return entry;
}

/** The compiled validator of the schema at `ptr` (a `#/...` pointer into doc). */
function validatorAt(doc, ptr) {
  const entry = ajvFor(doc);
  let v = entry.validators.get(ptr);
  if (!v) {
    // Segments stay JSON-pointer escaped (~0, ~1); Ajv percent-decodes each.
    const fragment = ptr.slice(1).split("/").map(encodeURIComponent).join("/");
    v = entry.ajv.getSchema(BASE + "#" + fragment);
    if (!v) throw new Error(`no schema at ${ptr}`);
    entry.validators.set(ptr, v);
  }
  return v;
}

/** Every schema used by a parameter, header, request body or response: [pointer, schema]. */
function mediaSchemas(doc) {
  const found = [];
  const walk = (node, path) => {
    if (Array.isArray(node)) return node.forEach((v, i) => walk(v, [...path, i]));
    if (node === null || typeof node !== "object") return;
    for (const [k, v] of Object.entries(node)) {
      if (k === "schema" && v !== null && typeof v === "object" && !Array.isArray(v)) {
        found.push([pointer([...path, k]), v]);
      } else {
        walk(v, [...path, k]);
      }
    }
  };
  walk(doc.paths, ["paths"]);
  for (const section of ["responses", "parameters", "requestBodies", "headers"]) {
    const map = doc.components?.[section];
    if (map) walk(map, ["components", section]);
  }
  return found;
}

/**
 * Throws unless `doc` is structurally a valid OpenAPI 3.1 document: the
 * meta-schema above; every `$ref` resolving inside the document; unique
 * operationIds; path templates and path parameters agreeing; security
 * requirements naming declared schemes; every component schema and every
 * schema in a parameter, header, request body or response being a valid
 * JSON Schema 2020-12 that compiles (Ajv2020, strict mode off).
 */
export function checkDocument(doc) {
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw new Error("not an OpenAPI document: not a JSON object");
  }
  metaValidate(doc);

  const problems = [];
  eachRef(doc, (ref, path) => {
    if (!ref.startsWith("#")) problems.push(`${pointer(path)}: $ref ${ref} is not local to the document`);
    else {
      const target = resolvePointer(doc, ref);
      if (target === undefined) problems.push(`${pointer(path)}: $ref ${ref} does not resolve`);
      else if (target === null || !["object", "boolean"].includes(typeof target) || Array.isArray(target)) {
        problems.push(`${pointer(path)}: $ref ${ref} points to ${JSON.stringify(target)}, not an object`);
      }
    }
  });
  if (problems.length) throw new Error(`broken references:\n  ${problems.join("\n  ")}`);

  const schemes = doc.components?.securitySchemes ?? {};
  const checkSecurity = (security, where) => {
    for (const requirement of security ?? []) {
      for (const name of Object.keys(requirement)) {
        if (!Object.hasOwn(schemes, name)) problems.push(`${where}: security scheme ${name} is not declared`);
      }
    }
  };
  checkSecurity(doc.security, "security");

  const operationIds = new Map();
  for (const [template, rawItem] of Object.entries(doc.paths)) {
    if (template.startsWith("x-")) continue;
    const { node: item } = deref(doc, rawItem, `paths ${template}`);
    const names = [...template.matchAll(/\{([^{}/]+)\}/g)].map((m) => m[1]);
    if (new Set(names).size !== names.length) problems.push(`${template}: a template variable repeats`);
    if (/[{}]/.test(template.replace(/\{[^{}/]+\}/g, ""))) problems.push(`${template}: unbalanced braces`);
    const resolveParams = (list, where) =>
      (list ?? []).map((p, i) => deref(doc, p, `${where} parameters[${i}]`).node);
    const shared = resolveParams(item.parameters, template);
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const where = `${method.toUpperCase()} ${template}`;
      if (op.operationId) {
        if (operationIds.has(op.operationId)) {
          problems.push(`${where}: operationId ${op.operationId} is also used by ${operationIds.get(op.operationId)}`);
        }
        operationIds.set(op.operationId, where);
      }
      checkSecurity(op.security, where);
      // Operation parameters override path-item ones with the same name and location.
      const params = new Map();
      for (const p of [...shared, ...resolveParams(op.parameters, where)]) params.set(`${p.in}:${p.name}`, p);
      const declared = [...params.values()].filter((p) => p.in === "path").map((p) => p.name);
      for (const name of names) {
        if (!declared.includes(name)) problems.push(`${where}: no path parameter declared for {${name}}`);
      }
      for (const name of declared) {
        if (!names.includes(name)) problems.push(`${where}: path parameter ${name} is not in the template`);
      }
      for (const [status, raw] of Object.entries(op.responses)) {
        if (!status.startsWith("x-")) deref(doc, raw, `${where} ${status}`);
      }
    }
  }
  if (problems.length) throw new Error(`inconsistent document:\n  ${problems.join("\n  ")}`);

  // Schemas: each must be valid 2020-12 and compile (refs resolved in doc).
  const { ajv } = ajvFor(doc);
  const schemas = [
    ...Object.entries(doc.components?.schemas ?? {}).map(([name, s]) => [
      pointer(["components", "schemas", name]),
      s,
    ]),
    ...mediaSchemas(doc),
  ];
  for (const [ptr, schema] of schemas) {
    if (!ajv.validateSchema(schema)) {
      problems.push(`${ptr}: not a valid JSON Schema 2020-12: ${ajv.errorsText(ajv.errors)}`);
      continue;
    }
    try {
      validatorAt(doc, ptr);
    } catch (e) {
      problems.push(`${ptr}: does not compile: ${e.message}`);
    }
  }
  if (problems.length) throw new Error(`bad schemas:\n  ${problems.join("\n  ")}`);
}

// ---- response validation -------------------------------------------------------

function matchersFor(doc) {
  const entry = ajvFor(doc);
  if (!entry.matchers) {
    entry.matchers = Object.keys(doc.paths)
      .filter((t) => t.startsWith("/"))
      .map((template) => {
        const source = template
          .split(/(\{[^{}/]+\})/)
          .map((part) => (/^\{[^{}/]+\}$/.test(part) ? "[^/]+" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
          .join("");
        return { template, regex: new RegExp(`^${source}$`) };
      });
  }
  return entry.matchers;
}

function formatErrors(errors) {
  return (errors ?? [])
    .map((e) => {
      const at = e.instancePath || "(root)";
      const extra =
        e.keyword === "additionalProperties" ? ` (${e.params.additionalProperty})`
        : e.keyword === "enum" ? ` (${e.params.allowedValues.map((v) => JSON.stringify(v)).join(", ")})`
        : e.keyword === "const" ? ` (${JSON.stringify(e.params.allowedValue)})`
        : e.keyword === "not" && e.schema !== undefined ? ` (forbidden: ${JSON.stringify(e.schema)})`
        : "";
      return `  ${at} ${e.message}${extra}  [${e.schemaPath}]`;
    })
    .join("\n");
}

const preview = (value) => {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 600 ? text.slice(0, 600) + "…" : text;
};

function headerValue(headers, name) {
  if (!headers) return undefined;
  if (typeof headers.get === "function") return headers.get(name) ?? undefined;
  const key = Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : String(headers[key]);
}

/**
 * Throws unless the response is documented by `doc` and its body matches.
 *
 *   method       HTTP method, any case
 *   path         concrete path below the server prefix, without query string,
 *                e.g. `/accounts/acct_1/keys/key_00000000000000000`
 *   status       HTTP status (number or string)
 *   contentType  the Content-Type header; parameters (`; charset=...`) are ignored
 *   body         the parsed JSON body (undefined for an empty body)
 *   headers      optional (a Headers or a plain object): when given, the
 *                response's documented headers are checked too
 *
 * Returns the operationId of the matched operation.
 */
export function validateResponse(doc, { method, path, status, contentType, body, headers } = {}) {
  const request = `${String(method).toUpperCase()} ${path}`;
  const fail = (why) => {
    throw new Error(`${request} → ${status} ${contentType ?? "(no content type)"}: ${why}`);
  };
  if (typeof method !== "string" || !method) fail("method missing");
  if (typeof path !== "string" || !path.startsWith("/")) fail("path must be a string starting with /");
  if (/[?#]/.test(path)) fail("path must not contain a query string or fragment");
  const prefix = doc.servers?.[0]?.url;
  const all = matchersFor(doc).filter(({ regex }) => regex.test(path));
  // A concrete path takes precedence over a templated one (OpenAPI 3.1,
  // Paths Object): /keys/import before /keys/{id}. Keep the matches with
  // the fewest template parameters.
  const params = (template) => (template.match(/\{[^}]+\}/g) ?? []).length;
  const fewest = Math.min(...all.map((m) => params(m.template)));
  const matches = all.filter((m) => params(m.template) === fewest);
  if (matches.length === 0) {
    const hint = prefix && prefix !== "/" && path.startsWith(prefix + "/")
      ? ` (pass the path without the server prefix ${prefix})`
      : "";
    fail(`no path template of the document matches${hint}`);
  }
  if (matches.length > 1) fail(`several path templates match: ${matches.map((m) => m.template).join(", ")}`);
  const { template } = matches[0];
  const item = deref(doc, doc.paths[template], template).node;
  const op = item[method.toLowerCase()];
  if (!METHODS.includes(method.toLowerCase()) || !op) {
    const documented = METHODS.filter((m) => item[m]).map((m) => m.toUpperCase()).join(", ");
    fail(`${template} has no ${method.toUpperCase()} operation (documented: ${documented})`);
  }
  const name = op.operationId ?? `${method.toUpperCase()} ${template}`;
  const opPtr = ["paths", template, method.toLowerCase(), "responses"];

  const code = String(status);
  if (!/^[1-5]\d\d$/.test(code)) fail(`not an HTTP status`);
  const range = `${code[0]}XX`;
  const key = [code, range, "default"].find((k) => Object.hasOwn(op.responses, k));
  if (!key) {
    const documented = Object.keys(op.responses).filter((k) => !k.startsWith("x-")).join(", ");
    fail(`status ${code} is not documented for ${name} (documented: ${documented})`);
  }
  const { node: response, ptr } = deref(doc, op.responses[key], `${name} ${key}`);
  const responsePtr = ptr ?? pointer([...opPtr, key]);

  if (headers !== undefined) {
    for (const [header, rawSpec] of Object.entries(response.headers ?? {})) {
      const { node: spec } = deref(doc, rawSpec, `${name} ${key} header ${header}`);
      const value = headerValue(headers, header);
      if (value === undefined) {
        if (spec.required) fail(`required header ${header} is missing`);
        continue;
      }
      if (spec.schema) {
        const ajv = ajvFor(doc).ajv;
        if (!ajv.validate(spec.schema, value)) {
          fail(`header ${header}: ${JSON.stringify(value)} does not match:\n${formatErrors(ajv.errors)}`);
        }
      }
    }
  }

  const content = response.content ?? {};
  const mediaTypes = Object.keys(content);
  const empty = body === undefined || body === null || body === "";
  if (mediaTypes.length === 0) {
    if (!empty) fail(`${name} ${key} documents no body, got ${preview(body)}`);
    return name;
  }
  if (!contentType) fail(`no content type (documented: ${mediaTypes.join(", ")})`);
  const media = contentType.split(";")[0].trim().toLowerCase();
  const mediaKey =
    mediaTypes.find((m) => m.toLowerCase() === media) ??
    mediaTypes.find((m) => m.toLowerCase() === media.split("/")[0] + "/*") ??
    mediaTypes.find((m) => m === "*/*");
  if (!mediaKey) fail(`content type ${media} is not documented for ${name} ${key} (documented: ${mediaTypes.join(", ")})`);
  if (!content[mediaKey].schema) return name;
  if (body === undefined) fail(`no body, but ${name} ${key} documents one`);

  const schemaPtr = `${responsePtr}/content/${escapePointer(mediaKey)}/schema`;
  const validate = validatorAt(doc, schemaPtr);
  if (!validate(body)) {
    fail(`body does not match the ${name} ${key} schema (${schemaPtr}):\n${formatErrors(validate.errors)}\n  body: ${preview(body)}`);
  }
  return name;
}
