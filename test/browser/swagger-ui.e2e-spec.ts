import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, chromium, Page } from 'playwright-core';
import { startTestSimulator, TestSimulator } from '../support/simulator';
import { startService, TestService } from '../support/service';

// Operators use Swagger UI at /docs as their console, behind helmet's
// Content Security Policy. This drives a real Chromium through it: the
// page must load cleanly, list every route, and create a room.

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOTS = join(__dirname, '..', '..', 'test-output', 'swagger-ui');

/** A name that is not localhost, so the browser treats the page as plain, untrusted HTTP. */
const PLAIN_HTTP_HOST = 'maxconf.test';

const chromiumInstalled = existsSync(CHROMIUM);
// Outside CI a developer without Chromium may skip this file; in CI a
// missing browser must fail the run, not quietly pass it.
const describeInBrowser =
  chromiumInstalled || process.env.CI === 'true' ? describe : describe.skip;

/** The part of the OpenAPI document this test reads. */
interface OpenApiPaths {
  paths: Record<
    string,
    Record<
      string,
      { parameters?: { name: string; schema?: { example?: unknown } }[] }
    >
  >;
}

interface PageProblems {
  consoleErrors: string[];
  pageErrors: string[];
  failedRequests: string[];
}

/** Records everything that went wrong while a page was used. */
function watch(page: Page): PageProblems {
  const problems: PageProblems = {
    consoleErrors: [],
    pageErrors: [],
    failedRequests: [],
  };
  page.on('console', (message) => {
    if (message.type() === 'error') problems.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => problems.pageErrors.push(error.message));
  page.on('requestfailed', (request) =>
    problems.failedRequests.push(
      `${request.url()}: ${request.failure()?.errorText}`,
    ),
  );
  page.on('response', (response) => {
    if (response.status() >= 400) {
      problems.failedRequests.push(`${response.url()}: ${response.status()}`);
    }
  });
  return problems;
}

/** `METHOD /path` of every operation Swagger UI shows. */
function listedOperations(page: Page): Promise<string[]> {
  return page.$$eval('.opblock-summary', (summaries) =>
    summaries.map(
      (summary) =>
        `${summary.querySelector('.opblock-summary-method')?.textContent} ` +
        `${summary.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`,
    ),
  );
}

describeInBrowser('Swagger UI at /docs, in headless Chromium', () => {
  let pexip: TestSimulator;
  let service: TestService;
  let browser: Browser;
  let documentedOperations: string[];
  let exampleUuiData: string;

  beforeAll(async () => {
    if (!chromiumInstalled) {
      throw new Error(
        `Chromium is missing at ${CHROMIUM}: install it with ` +
          '`apt-get install -y --no-install-recommends chromium` (.ci/run does).',
      );
    }
    mkdirSync(SCREENSHOTS, { recursive: true });

    pexip = await startTestSimulator();
    service = await startService({ PEXIP_URL: pexip.url });

    const document = (await (
      await fetch(`${service.url}/openapi.json`)
    ).json()) as OpenApiPaths;
    documentedOperations = Object.entries(document.paths).flatMap(
      ([path, item]) =>
        Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`),
    );
    exampleUuiData = String(
      document.paths['/room/create'].post.parameters?.find(
        (parameter) => parameter.name === 'uuiData',
      )?.schema?.example,
    );

    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-quic',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
        // Only this made-up name; every other name stays unresolvable.
        `--host-resolver-rules=MAP ${PLAIN_HTTP_HOST} 127.0.0.1`,
      ],
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    await service?.close();
    await pexip?.close();
  });

  it('loads without a console error under the Content Security Policy and lists every documented route', async () => {
    const page = await browser.newPage({
      viewport: { width: 1280, height: 900 },
    });
    const problems = watch(page);

    const response = await page.goto(`${service.url}/docs`, {
      waitUntil: 'networkidle',
    });
    await page.locator('.opblock').first().waitFor();
    const operations = await listedOperations(page);
    await page.screenshot({
      path: join(SCREENSHOTS, 'docs.png'),
      fullPage: true,
    });

    expect(response?.headers()['content-security-policy']).toContain(
      "script-src 'self'",
    );
    expect(problems).toEqual({
      consoleErrors: [],
      pageErrors: [],
      failedRequests: [],
    });
    expect(operations.sort()).toEqual([...documentedOperations].sort());
    expect(operations).toHaveLength(12);
    await page.close();
  }, 60_000);

  it('creates a room with "Try it out" on POST /room/create and shows the 200 answer', async () => {
    const page = await browser.newPage({
      viewport: { width: 1280, height: 900 },
    });
    const problems = watch(page);
    await page.goto(`${service.url}/docs`, { waitUntil: 'networkidle' });

    const operation = page.locator('.opblock', {
      has: page.locator('.opblock-summary-path[data-path="/room/create"]'),
    });
    await operation.locator('.opblock-summary-control').click();
    await operation.getByRole('button', { name: 'Try it out' }).click();
    await operation
      .locator('tr[data-param-name="uuiData"] input')
      .fill(exampleUuiData);
    await operation.getByRole('button', { name: 'Execute' }).click();

    const answer = operation.locator('.live-responses-table tbody tr.response');
    await answer.waitFor();
    const status = (
      await answer.locator('.response-col_status').textContent()
    )?.trim();
    const body = JSON.parse(
      (await answer
        .locator('.response-col_description pre')
        .first()
        .textContent()) ?? '',
    );
    await operation.locator('.responses-wrapper').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(SCREENSHOTS, 'create-room.png') });

    expect(status).toBe('200');
    expect(body).toMatchObject({
      service_type: 'conference',
      allow_guests: true,
      tag: 'https://id.gov.bc.ca/idcheck/protected/video/MTIzNDU2LDc2NTQzMg',
      aliases: [{ alias: body.name }],
    });
    expect(body).not.toHaveProperty('pin');
    expect((await pexip.findRoom(body.name))?.tag).toBe(body.tag);
    expect(problems).toEqual({
      consoleErrors: [],
      pageErrors: [],
      failedRequests: [],
    });
    await page.close();
  }, 60_000);

  it('still loads over plain HTTP by host name, as from another machine running docker compose', async () => {
    const page = await browser.newPage();
    const problems = watch(page);
    const port = new URL(service.url).port;

    await page.goto(`http://${PLAIN_HTTP_HOST}:${port}/docs`, {
      waitUntil: 'networkidle',
    });
    await page.locator('.opblock').first().waitFor({ timeout: 15_000 });

    // Over plain HTTP the browser ignores (and reports) the isolation
    // headers meant for HTTPS; what matters is that every script and style
    // arrives and the page works.
    expect(problems.failedRequests).toEqual([]);
    expect(problems.pageErrors).toEqual([]);
    expect((await listedOperations(page)).sort()).toEqual(
      [...documentedOperations].sort(),
    );
    await page.close();
  }, 60_000);
});
