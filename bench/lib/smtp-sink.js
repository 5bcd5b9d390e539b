'use strict';
/**
 * A counting SMTP sink for the delivery benchmark: accepts every envelope and
 * every message as fast as smtp-server allows, never parses anything, and only
 * counts messages and bytes. No TLS, no AUTH (the app talks plain smtp:// to it).
 */
const { SMTPServer } = require('smtp-server');

/** @returns {Promise<{port:number,url:string,stats:()=>{messages:number,bytes:number,connections:number},close:()=>Promise<void>}>} */
async function startCountingSink({ host = '127.0.0.1', port = 0 } = {}) {
  let messages = 0;
  let bytes = 0;
  let connections = 0;
  const sockets = new Set();

  const server = new SMTPServer({
    disabledCommands: ['STARTTLS', 'AUTH'],
    authOptional: true,
    hideSTARTTLS: true,
    logger: false,
    banner: 'leadpush bench sink',
    size: 0,
    // Connections are pooled by nodemailer and stay open; never time them out mid-run.
    socketTimeout: 10 * 60 * 1000,
    closeTimeout: 1000,
    onConnect(session, callback) {
      connections += 1;
      callback();
    },
    onData(stream, session, callback) {
      stream.on('data', (chunk) => {
        bytes += chunk.length;
      });
      stream.once('end', () => {
        messages += 1;
        callback();
      });
      stream.once('error', (error) => callback(error));
    },
  });
  server.on('error', () => undefined); // a client dropping its socket is not our problem
  server.server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });

  await new Promise((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, host, () => {
      server.server.removeListener('error', reject);
      resolve();
    });
  });
  const actualPort = server.server.address().port;
  let closed = false;

  return {
    port: actualPort,
    url: `smtp://${host}:${actualPort}`,
    stats: () => ({ messages, bytes, connections }),
    async close() {
      if (closed) return;
      closed = true;
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

module.exports = { startCountingSink };
