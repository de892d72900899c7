import SwaggerParser from '@apidevtools/swagger-parser';
import type { FastifyInstance, RouteOptions } from 'fastify';
import { apiRoutes } from '../../client/api/routes';
import { buildApi, type ApiDeps } from '../../client/api/server';
import { createLogger } from '../../contracts/logger';

interface Operation {
  parameters?: { in: string; name: string; required?: boolean }[];
  responses: Record<string, { content?: { 'application/json'?: { schema?: { type?: string } } } }>;
}
type Document = { openapi: string; paths: Record<string, Record<string, Operation>> };

// The OpenAPI document is assembled from the routes themselves; this checks it is a valid OpenAPI 3.1 document and
// that it describes every route the server registers (and nothing else), with its methods and path parameters.
// Serving the document reads no database, so the server runs here without one.
describe('the OpenAPI document', () => {
  let app: FastifyInstance;
  let url: string;
  const routes: { method: string; url: string }[] = [];
  beforeAll(async () => {
    const deps = { log: createLogger({ level: 'error' }) } as unknown as ApiDeps;
    app = await buildApi(deps, apiRoutes, {
      onRoute: (route: RouteOptions) => {
        for (const method of [route.method].flat()) routes.push({ method, url: route.url });
      },
    });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => app?.close());

  const fetchDocument = async (): Promise<Document> => {
    const res = await fetch(`${url}/api/v4/openapi.json`);
    expect(res.status).toBe(200); // no token needed
    return (await res.json()) as Document;
  };

  it('is a valid OpenAPI 3.1 document', async () => {
    const doc = await fetchDocument();
    expect(doc.openapi).toBe('3.1.0');
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  it('describes every registered route with its methods and path parameters, and no other', async () => {
    const doc = await fetchDocument();
    // Fastify answers HEAD for every GET by itself; the document leaves those implied, as GitLab's does.
    const registered = routes.filter((r) => r.method !== 'HEAD');
    expect(registered.length).toBeGreaterThanOrEqual(13);
    const toOpenApiPath = (url: string) => url.replace(/:([A-Za-z_]+)/g, '{$1}');
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    );
    expect(documented.sort()).toEqual(registered.map((r) => `${r.method} ${toOpenApiPath(r.url)}`).sort());

    for (const route of registered) {
      const op = doc.paths[toOpenApiPath(route.url)]?.[route.method.toLowerCase()];
      const pathParams = [...route.url.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]);
      const documentedPathParams = (op?.parameters ?? []).filter((p) => p.in === 'path');
      expect({ route: route.url, params: documentedPathParams.map((p) => p.name).sort() }).toEqual({
        route: route.url,
        params: pathParams.sort(),
      });
      expect(documentedPathParams.every((p) => p.required)).toBe(true);
      // Every list is paginated: it documents page and per_page.
      const ok = op?.responses['200']?.content?.['application/json']?.schema;
      if (ok?.type === 'array') {
        const query = (op?.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
        expect({ route: route.url, query }).toEqual({
          route: route.url,
          query: expect.arrayContaining(['page', 'per_page']),
        });
      }
    }
  });

  it("documents the errors: Grape's {error} for parameters, {message} for the rest", async () => {
    const doc = await fetchDocument();
    const relations = doc.paths['/api/v4/offline_exports/{id}/relations']?.get;
    expect(JSON.stringify(relations?.responses['400'])).toContain('"error"');
    expect(Object.keys(relations?.responses ?? {})).toEqual(expect.arrayContaining(['200', '400', '401', '404']));
    const cancel = doc.paths['/api/v4/security/background_operations/{id}/cancel']?.post;
    expect(Object.keys(cancel?.responses ?? {})).toEqual(expect.arrayContaining(['202', '409']));
  });
});
