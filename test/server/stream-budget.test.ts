import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamBudget } from '../../src/server/api/stream-budget.ts';

/** A client whose unsent bytes the test sets; `dropped` once cut. */
function client(budget: StreamBudget, name: string, cut: string[]) {
  const c = {
    buffered: 0,
    dropped: false,
    drop() {
      c.dropped = true;
      c.buffered = 0;
      cut.push(name);
    },
  };
  budget.add(c);
  return c;
}

test('over the total, the clients holding most are cut first, down to 90% of it; a client that keeps up is not', { timeout: 5000 }, () => {
  const cut: string[] = [];
  let counted = 0;
  const budget = new StreamBudget(1000, () => counted++);
  const a = client(budget, 'a', cut);
  const b = client(budget, 'b', cut);
  const c = client(budget, 'c', cut);
  const reader = client(budget, 'reader', cut);
  // Writes that stay within the total cut nobody.
  a.buffered = 300;
  budget.wrote(300);
  b.buffered = 200;
  budget.wrote(200);
  c.buffered = 400;
  budget.wrote(400);
  reader.buffered = 0;
  budget.wrote(50);
  assert.deepEqual(cut, []);
  // 1,050 unsent: c (400) goes, leaving 500, under 900.
  b.buffered = 350;
  budget.wrote(150);
  assert.deepEqual(cut, ['c']);
  assert.equal(counted, 1);
  assert.equal(budget.total, 650);
  // Past it again (1,150): a, now the one furthest behind, goes; 550 left.
  a.buffered = 600;
  b.buffered = 550;
  budget.wrote(500);
  assert.deepEqual(cut, ['c', 'a']);
  assert.equal(reader.dropped, false);
});

test('bytes the clients took meanwhile are found when counting: nobody is cut for what was already taken', { timeout: 5000 }, () => {
  const cut: string[] = [];
  const budget = new StreamBudget(1000);
  const a = client(budget, 'a', cut);
  const b = client(budget, 'b', cut);
  for (let i = 0; i < 100; i++) {
    // Each write is taken at once: the bound grows past the total, the count finds next to nothing held.
    a.buffered = 40;
    b.buffered = 40;
    budget.wrote(80);
    a.buffered = 0;
    b.buffered = 0;
  }
  assert.deepEqual(cut, []);
});

test('a client that left no longer counts', { timeout: 5000 }, () => {
  const cut: string[] = [];
  const budget = new StreamBudget(1000);
  const a = client(budget, 'a', cut);
  const b = client(budget, 'b', cut);
  a.buffered = 900;
  budget.wrote(900);
  budget.delete(a);
  b.buffered = 500;
  budget.wrote(500);
  assert.deepEqual(cut, []);
  assert.equal(budget.total, 500);
});

test('a cut leaves room: with many small clients, enough go to bring the total under 90% of it', { timeout: 5000 }, () => {
  const cut: string[] = [];
  const budget = new StreamBudget(1000);
  const clients = Array.from({ length: 11 }, (_, i) => client(budget, `c${i}`, cut));
  clients.forEach((c, i) => {
    c.buffered = 90 + i;
    budget.wrote(90 + i);
  });
  // 1,045 held: the two largest (100, 99) go, leaving 846; one alone would leave 945, over 900.
  assert.deepEqual(cut, ['c10', 'c9']);
  assert.equal(budget.total, 846);
});
