import { describe, expect, it } from 'vitest';
import { loopbackListeners, parseListeners } from '../../src/cli/loopbackListener.js';

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000   106        0 5824 1 0000000026423cae 100 0 0 10 0
   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1071 1 00000000f5703412 100 0 0 10 0
   2: 0100007F:18EB 0100007F:D431 01 00000000:00000000 00:00000000 00000000  1000        0 2089 1 0000000009b9c2c4 20 4 30 10 -1
   3: 0200007F:18EB 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 7777 1 0000000009b9c2c4 100 0 0 10 0
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:18EB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5179 1 0000000042f671a7 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:18EB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000   105        0 5180 1 000000008e2ba457 100 0 0 10 0
   2: 00000000000000000000000000000000:18EB 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 5181 1 000000008e2ba457 100 0 0 10 0
`;

describe('parseListeners (/proc/net/tcp text)', () => {
  it('keeps only LISTEN sockets, with their address (little-endian words), port, uid and inode', () => {
    expect(parseListeners(TCP, true)).toEqual([
      { address: '127.0.0.1', port: 6379, uid: 106, inode: 5824 },
      { address: '0.0.0.0', port: 8080, uid: 0, inode: 1071 },
      { address: '127.0.0.2', port: 6379, uid: 1000, inode: 7777 },
    ]);
  });

  it('reads IPv6 addresses: ::1 as hex, an IPv4-mapped one as dotted, the wildcard as zeros', () => {
    expect(parseListeners(TCP6, true)).toEqual([
      { address: '00000000000000000000000000000001', port: 6379, uid: 0, inode: 5179 },
      { address: '127.0.0.1', port: 6379, uid: 105, inode: 5180 },
      { address: '0'.repeat(32), port: 6379, uid: 1001, inode: 5181 },
    ]);
  });

  it('reads words in big-endian order on a big-endian host', () => {
    expect(parseListeners(TCP.replace('0100007F:18EB', '7F000001:18EB'), false)[0]).toMatchObject({ address: '127.0.0.1', port: 6379 });
  });

  it('ignores a header only, blank lines and short lines', () => {
    expect(parseListeners(TCP.split('\n')[0]!, true)).toEqual([]);
    expect(parseListeners(`${TCP.split('\n')[0]}\n\n   0: 0100007F:18EB\n`, true)).toEqual([]);
  });
});

describe('loopbackListeners', () => {
  it('keeps the sockets a connection to 127.0.0.1:port reaches: 127.0.0.1, mapped 127.0.0.1 and both wildcards, not ::1 or 127.0.0.2', () => {
    const all = [...parseListeners(TCP, true), ...parseListeners(TCP6, true)];
    expect(loopbackListeners(all, 6379).map((l) => l.inode)).toEqual([5824, 5180, 5181]);
    expect(loopbackListeners(all, 8080).map((l) => l.inode)).toEqual([1071]);
    expect(loopbackListeners(all, 9999)).toEqual([]);
  });
});
