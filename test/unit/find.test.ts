import { describe, expect, it } from 'vitest';
import { jobUrl, type FoundJob } from '../../src/board/findJobs.js';
import { answerJobCandidates } from '../../src/shared/queues.js';
import { findPage } from '../../src/board/findPage.js';
import { FindQuerySchema } from '../../src/board/findRoute.js';
import { entryMember, FIND_BOUNDS, findKey, idRange, parseMember, searchKinds } from '../../src/shared/findIndex.js';
import { JOB_RETENTION } from '../../src/shared/queues.js';

const ENTRY = { jobId: 'm-0123456789abcdef-7', queryId: 'q_1', messageId: 7, conversationId: 'conv-1' };

describe('the find index', () => {
  it('lives as long as a failed job, and holds as many questions as the questions queue keeps', () => {
    expect(FIND_BOUNDS.retentionMs).toBe(JOB_RETENTION.removeOnFail.age * 1000);
    expect(FIND_BOUNDS.questions).toBe(20_000);
  });

  it('a member per job and kind: the id first, then the time, the job and its ids; read back whole; a foreign member is skipped', () => {
    const e = { ...ENTRY, at: 1_800_000_000_000 };
    expect(entryMember(e)).toBe('[1800000000000,"m-0123456789abcdef-7","q_1",7,"conv-1"]');
    expect(entryMember(e, 'query')).toBe('["q_1",1800000000000,"m-0123456789abcdef-7","q_1",7,"conv-1"]');
    expect(entryMember(e, 'message')).toMatch(/^\[7,1800000000000,/);
    for (const kind of [undefined, 'query', 'message', 'conversation'] as const) expect(parseMember(entryMember(e, kind), kind)).toEqual(e);
    expect(parseMember('not json')).toBeUndefined();
    expect(parseMember('[1,"x"]')).toBeUndefined();
  });

  it('a question rejected at take: no job (null), its query id null when it named none; read back whole', () => {
    const rejected = { jobId: null, queryId: null, messageId: 8, conversationId: 'conv-1', at: 1_800_000_000_000 };
    expect(entryMember(rejected)).toBe('[1800000000000,null,null,8,"conv-1"]');
    expect(entryMember(rejected, 'message')).toBe('[8,1800000000000,null,null,8,"conv-1"]');
    for (const e of [rejected, { ...rejected, queryId: 'q_2' }]) {
      for (const kind of [undefined, 'query', 'message', 'conversation'] as const) expect(parseMember(entryMember(e, kind), kind)).toEqual(e);
    }
    expect(parseMember('[1800000000000,"",null,8,"conv-1"]')).toBeUndefined();
  });

  it('the four keys are under the prefix (its hash tag)', () => {
    expect(findKey('{ap}', 'recent')).toBe('{ap}:autopoll:find:recent');
    expect(findKey('{ap}', 'conversation')).toBe('{ap}:autopoll:find:conversation');
  });

  it("an id's range holds its members only, not those of an id it begins, nor of the same text as a number", () => {
    const inRange = (id: string | number, member: string) => {
      const { max, min } = idRange(id);
      return member >= min.slice(1) && member < max.slice(1);
    };
    const e = { ...ENTRY, at: 1_800_000_000_000 };
    expect(inRange('q_1', entryMember(e, 'query'))).toBe(true);
    expect(inRange('q_1', entryMember({ ...e, queryId: 'q_10' }, 'query'))).toBe(false);
    expect(inRange('q_', entryMember(e, 'query'))).toBe(false);
    expect(inRange(7, entryMember(e, 'message'))).toBe(true);
    expect(inRange(7, entryMember({ ...e, messageId: 70 }, 'message'))).toBe(false);
    expect(inRange('7', entryMember(e, 'message'))).toBe(false);
  });

  it('a search text is looked up as a query id and a conversation id, a whole number as a message id too; newest 20 of an id, 200 of a conversation', () => {
    expect(searchKinds('q_1')).toEqual([{ kind: 'query', id: 'q_1', limit: 20 }, { kind: 'conversation', id: 'q_1', limit: 200 }]);
    expect(searchKinds('42')).toContainEqual({ kind: 'message', id: 42, limit: 20 });
    expect(searchKinds('042')).toHaveLength(2);
    expect(searchKinds('-1')).toHaveLength(2);
  });
});

const answerCandidates = (jobId: string, lastRound: number) => answerJobCandidates(jobId, lastRound).map((c) => c.id);

describe('answerJobCandidates', () => {
  it('round 0 and every round up to the current one, answer and error each', () => {
    expect(answerCandidates('m-x-1', 0)).toEqual(['a-m-x-1', 'e-m-x-1']);
    expect(answerCandidates('m-x-1', 2)).toEqual(['a-m-x-1', 'e-m-x-1', 'a-m-x-1-r1', 'e-m-x-1-r1', 'a-m-x-1-r2', 'e-m-x-1-r2']);
  });

  it('the newest 100 rounds past the first, however often it was replayed', () => {
    const ids = answerCandidates('m-x-1', 1000);
    expect(ids).toHaveLength(202);
    expect(ids).toContain('a-m-x-1-r1000');
    expect(ids).toContain('e-m-x-1-r901');
    expect(ids).not.toContain('e-m-x-1-r900');
  });
});

describe('GET /find?q=', () => {
  it('takes one text of 1 to 200 characters, trimmed, and says what is wrong otherwise', () => {
    expect(FindQuerySchema().parse({ q: ' q_1 ' })).toEqual({ q: 'q_1' });
    const message = (query: unknown) => FindQuerySchema().safeParse(query).error?.issues[0]?.message;
    expect(message({})).toMatch(/^q is required: \/find\?q=/);
    expect(message({ q: ['a', 'b'] })).toMatch(/^q must be given once/);
    expect(message({ q: '  ' })).toMatch(/^q is empty/);
    expect(message({ q: 'x'.repeat(201) })).toMatch(/^q is longer than 200 characters/);
  });

  it('links each job to its Bull Board page', () => {
    expect(jobUrl('answers', 'a-m-x-1')).toBe('/queue/answers/a-m-x-1');
    expect(jobUrl('questions', 'a b/c')).toBe('/queue/questions/a%20b%2Fc');
  });
});

describe('findPage', () => {
  const job: FoundJob = { ...ENTRY, queue: 'questions', state: 'completed', url: jobUrl('questions', ENTRY.jobId) };

  it('lists each job with its state and a link to it, under the search box holding the text', () => {
    const html = findPage({ q: 'q_1', jobs: [job, { ...job, queue: 'answers', jobId: 'a-m-1', url: '/queue/answers/a-m-1', state: 'gone' }] });
    expect(html).toContain('<input name="q" value="q_1"');
    expect(html).toContain('<td>q_1</td><td>7</td><td>conv-1</td><td>questions</td><td><a href="/queue/questions/m-0123456789abcdef-7">m-0123456789abcdef-7</a></td><td>completed</td>');
    expect(html).toContain('<td><a href="/queue/answers/a-m-1">a-m-1</a></td><td>gone</td>');
  });

  it('escapes the search text and every id', () => {
    const evil = '"><script>x</script>';
    const html = findPage({ q: evil, jobs: [{ ...job, queryId: evil, conversationId: evil }] });
    expect(html).not.toContain('<script>');
    expect(html).toContain('value="&#34;&#62;&#60;script&#62;');
    expect(findPage({ q: evil, jobs: [] })).toContain('Nothing matches &#34;\\&#34;&#62;&#60;script&#62;');
  });

  it('a question rejected at take: its ids and state, no queue and no link', () => {
    const rejected: FoundJob = { ...ENTRY, queryId: null, queue: null, jobId: null, state: 'rejected', url: null };
    const html = findPage({ q: 'conv-1', jobs: [rejected] });
    expect(html).toContain('<tr><td></td><td>7</td><td>conv-1</td><td></td><td></td><td>rejected</td></tr>');
    expect(html).not.toContain('<a href="/queue');
  });

  it('without a search, the box alone; with a refused one, why', () => {
    expect(findPage({ q: '' })).not.toContain('<table>');
    expect(findPage({ q: '', error: 'q is empty' })).toContain('<p class="error">q is empty</p>');
  });
});
