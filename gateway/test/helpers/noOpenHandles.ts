/**
 * After each test file: no server or socket may be left open. One left open keeps the jest worker
 * alive ("A worker process has failed to exit gracefully"); this names the file that leaked it.
 */
afterAll(async () => {
  // let close callbacks of servers/sockets closed by the last test run
  for (let i = 0; i < 20; i++) {
    if (!openNetHandles().length) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  expect(openNetHandles()).toEqual([]);
});

function openNetHandles(): string[] {
  return process.getActiveResourcesInfo().filter((r) => /^(TCPServerWrap|TCPSocketWrap|TCPWRAP|PipeServerWrap)$/.test(r));
}
