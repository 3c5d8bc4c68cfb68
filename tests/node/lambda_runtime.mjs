// A Lambda Invoke API served by the test process, as local Lambda runtimes serve it
// (POST /2015-03-31/functions/{FunctionName}/invocations, RequestResponse): each function is a
// JS handler registered by a test, given the event JSON Gatehouse sends; every event is kept.
// A handler that throws answers as a failed function does (200 with X-Amz-Function-Error).
// The Python suite has the same harness (tests/python/lambda_runtime.py).

import { createServer } from 'node:http';

const PREFIX = '/2015-03-31/functions/';
const SUFFIX = '/invocations';

export class LambdaRuntime {
  static async start() {
    const runtime = new LambdaRuntime();
    await new Promise((resolve) => runtime.#http.listen(0, '127.0.0.1', resolve));
    runtime.url = `http://127.0.0.1:${runtime.#http.address().port}`;
    return runtime;
  }

  #functions = new Map();
  #http = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const send = (status, body, headers = {}) => {
        res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
        res.end(JSON.stringify(body));
      };
      const path = req.url.split('?')[0];
      if (req.method !== 'POST' || !path.startsWith(PREFIX) || !path.endsWith(SUFFIX)) {
        return send(404, { message: 'Unknown path' }, { 'X-Amzn-ErrorType': 'ResourceNotFoundException' });
      }
      const name = decodeURIComponent(path.slice(PREFIX.length, -SUFFIX.length)).split(':function:').at(-1);
      const fn = this.#functions.get(name);
      if (!fn) return send(404, { message: `Function not found: ${name}` }, { 'X-Amzn-ErrorType': 'ResourceNotFoundException' });
      const body = Buffer.concat(chunks).toString('utf8');
      fn.events.push(JSON.parse(body));
      try {
        send(200, await fn.handler(JSON.parse(body)));
      } catch (e) {
        send(200, { errorMessage: e.message, errorType: e.name }, { 'X-Amz-Function-Error': 'Unhandled' });
      }
    });
  });

  /** Registers `handler` as the function `name`; its ARN, for LambdaConfig. */
  fn(name, handler) {
    this.#functions.set(name, { handler, events: [] });
    return `arn:aws:lambda:us-east-1:000000000000:function:${name}`;
  }

  events(name) {
    return this.#functions.get(name).events;
  }

  async stop() {
    await new Promise((resolve) => this.#http.close(resolve));
  }
}
