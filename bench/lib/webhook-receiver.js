'use strict';

const http = require('node:http');

/**
 * A counting webhook receiver on a free 127.0.0.1 port: answers 204 at once
 * and counts requests and distinct `webhook-id`s (duplicates = the
 * difference). It checks nothing else, so it never becomes the bottleneck.
 */
async function startWebhookReceiver() {
  let requests = 0;
  const ids = new Set();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      requests++;
      ids.add(String(req.headers['webhook-id']));
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/bench-hook`,
    stats: () => ({ requests, distinct: ids.size }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(resolve);
      }),
  };
}

module.exports = { startWebhookReceiver };
