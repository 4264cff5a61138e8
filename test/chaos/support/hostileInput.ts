import fc from 'fast-check';
import { pyJsonDumps } from '../../../src/bridge/pyjson.js';

/**
 * Hostile rows for the bridge, as side `a` could write them: generated as small specs (what
 * fast-check prints for a counterexample), turned into the message text (up to 10 MB) only when
 * inserted, each with what autopoll must do with it.
 */

/** What must become of a row: answered, rejected with one error response, or rejected without one. */
export type Expected = { kind: 'answered'; queryId: string } | { kind: 'rejected'; queryId: string } | { kind: 'silent' };

export type IdForm = { form: 'string' | 'padded' | 'int' | 'unicode'; decor: string };

export const FLAWS = [
  'noQuestion', 'questionNumber', 'questionArray', 'questionObject', 'questionNull', 'questionBool', 'questionEmpty', 'questionBlank',
  'questionTooLong', 'questionDuplicateKey', 'contextNumber', 'contextArray', 'contextEmpty', 'contextTooLong', 'contextOutsideAbs',
  'contextOutsideDots', 'contextMissing', 'contextNul', 'contextDir',
] as const;
export type Flaw = (typeof FLAWS)[number];

export const BAD_IDS = ['object', 'array', 'bool', 'null', 'float', 'empty', 'blank', 'long', 'missing', 'unsafeInt'] as const;
export type BadId = (typeof BAD_IDS)[number];

export type Layout = 'compact' | 'pretty' | 'python' | 'padded' | 'dupType' | 'protoKeys';
export type Placement = 'top' | 'question' | 'extra' | 'queryId';

export type RowSpec =
  | { kind: 'valid'; id: IdForm; question: string; extra: fc.JsonValue | undefined; context: 'absent' | 'null' | 'inside'; layout: Layout }
  | { kind: 'flawed'; id: IdForm; flaw: Flaw }
  | { kind: 'noType'; id: IdForm; hasQuestion: boolean }
  | { kind: 'otherType'; type: fc.JsonValue; withId: boolean }
  | { kind: 'badId'; badId: BadId }
  | { kind: 'text'; text: string }
  | { kind: 'json'; value: fc.JsonValue }
  | { kind: 'deep'; depth: number; shape: 'array' | 'object'; where: Placement }
  | { kind: 'huge'; mb: number; where: Placement | 'text' }
  | { kind: 'nul'; variant: 'rawInString' | 'before' | 'escapedQuestion' | 'escapedId' }
  | { kind: 'surrogate'; variant: 'rawQuestion' | 'escapedQuestion' | 'rtlEmojiQuestion' | 'escapedId' }
  | { kind: 'boundary'; over: boolean }
  | { kind: 'blob'; valid: boolean }
  | { kind: 'number' };

/** A row as it goes into the bridge: text (or a BLOB, or a number: SQLite's other types). */
export interface Materialized {
  message: string | Buffer | number;
  expected: Expected;
}

const SPECIALS = ['\u0000', '\ud800', '\udfff', '\u202e', '\u200f', '\u2066', '\ufeff', '\u0085', '\u2028', '🎉', '👩‍👩‍👧', '\u0301', '"', '\\', '</question>', '{', '}'];

/** One unit of hostile text: any code point, or one of the characters parsers and terminals trip on. */
const hostileUnit: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.constantFrom(...SPECIALS) },
);

export const hostileString = (maxLength: number): fc.Arbitrary<string> => fc.string({ unit: hostileUnit, maxLength });

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Text or JSON that is not a query by any reading: no `type`, no `question`. */
function notQueryLike(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return !(isObject(v) && ('type' in v || 'question' in v));
  } catch {
    return true;
  }
}

const idForm: fc.Arbitrary<IdForm> = fc.record({
  form: fc.constantFrom('string', 'padded', 'int', 'unicode'),
  decor: fc.string({ unit: fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }), fc.constantFrom('\u202e', '\u200f', '🎉', ' ', '\u3000')), maxLength: 12 }),
});

const validQuestion: fc.Arbitrary<string> = hostileString(300)
  .map((s) => `Q ${s}`)
  .filter((q) => !q.includes('#stub-fail'));

export const rowSpec: fc.Arbitrary<RowSpec> = fc.oneof(
  {
    weight: 30,
    arbitrary: fc.record({
      kind: fc.constant('valid' as const),
      id: idForm,
      question: validQuestion,
      extra: fc.option(fc.jsonValue({ maxDepth: 3, stringUnit: hostileUnit }), { nil: undefined }),
      context: fc.constantFrom('absent' as const, 'null' as const, 'inside' as const),
      layout: fc.constantFrom<Layout>('compact', 'pretty', 'python', 'padded', 'dupType', 'protoKeys'),
    }),
  },
  { weight: 15, arbitrary: fc.record({ kind: fc.constant('flawed' as const), id: idForm, flaw: fc.constantFrom(...FLAWS) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('noType' as const), id: idForm, hasQuestion: fc.boolean() }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('otherType' as const),
      type: fc.oneof(fc.constantFrom('status', 'control', 'task_assignment', 'response', 'Query', 'query ', ' query', 'QUERY', 'query\u0000'), fc.jsonValue({ maxDepth: 2 })).filter((t) => t !== 'query' && t !== undefined),
      withId: fc.boolean(),
    }),
  },
  { weight: 7, arbitrary: fc.record({ kind: fc.constant('badId' as const), badId: fc.constantFrom(...BAD_IDS) }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('text' as const), text: hostileString(400).filter(notQueryLike) }) },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('json' as const),
      value: fc.jsonValue({ maxDepth: 4, stringUnit: hostileUnit }).filter((v) => notQueryLike(JSON.stringify(v))),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('deep' as const),
      depth: fc.constantFrom(10_000, 10_000, 50_000),
      shape: fc.constantFrom('array' as const, 'object' as const),
      where: fc.constantFrom<Placement>('top', 'question', 'extra', 'queryId'),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('huge' as const), mb: fc.constantFrom(1, 3, 10), where: fc.constantFrom<Placement | 'text'>('top', 'question', 'extra', 'queryId', 'text') }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('nul' as const), variant: fc.constantFrom('rawInString' as const, 'before' as const, 'escapedQuestion' as const, 'escapedId' as const) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('surrogate' as const), variant: fc.constantFrom('rawQuestion' as const, 'escapedQuestion' as const, 'rtlEmojiQuestion' as const, 'escapedId' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('boundary' as const), over: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('blob' as const), valid: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('number' as const) }) },
);

/** A batch that holds every kind, the rare ones included: the run's first batch. */
export function everyRareKind(): RowSpec[] {
  const id: IdForm = { form: 'string', decor: '' };
  return [
    ...(['top', 'question', 'extra', 'queryId'] as const).map((where): RowSpec => ({ kind: 'deep', depth: 10_000, shape: 'array', where })),
    { kind: 'deep', depth: 10_000, shape: 'object', where: 'extra' },
    ...(['top', 'question', 'extra', 'queryId', 'text'] as const).map((where): RowSpec => ({ kind: 'huge', mb: 10, where })),
    ...(['rawInString', 'before', 'escapedQuestion', 'escapedId'] as const).map((variant): RowSpec => ({ kind: 'nul', variant })),
    ...(['rawQuestion', 'escapedQuestion', 'rtlEmojiQuestion', 'escapedId'] as const).map((variant): RowSpec => ({ kind: 'surrogate', variant })),
    { kind: 'boundary', over: false },
    { kind: 'boundary', over: true },
    { kind: 'blob', valid: true },
    { kind: 'blob', valid: false },
    { kind: 'number' },
    { kind: 'valid', id: { form: 'int', decor: '' }, question: 'Q what is an int id?', extra: undefined, context: 'inside', layout: 'protoKeys' },
    { kind: 'valid', id: { form: 'unicode', decor: '\u202e🎉 ' }, question: 'Q \u202eRTL\u202c and 🎉', extra: undefined, context: 'null', layout: 'dupType' },
    { kind: 'text', text: 'hello shard, are you there? \u0000\ud800' },
    { kind: 'json', value: [1, { a: null, type_: 'query' }] },
    { kind: 'noType', id, hasQuestion: true },
    { kind: 'noType', id, hasQuestion: false },
    { kind: 'otherType', type: 'control', withId: true },
    { kind: 'otherType', type: null, withId: true },
    ...FLAWS.map((flaw): RowSpec => ({ kind: 'flawed', id, flaw })),
    ...BAD_IDS.map((badId): RowSpec => ({ kind: 'badId', badId })),
  ];
}

function idOf(form: IdForm, uid: number): { raw: string | number; queryId: string } {
  switch (form.form) {
    case 'int':
      return { raw: 7_000_000 + uid, queryId: String(7_000_000 + uid) };
    case 'padded':
      return { raw: ` \t q${uid} \n`, queryId: `q${uid}` };
    case 'unicode': {
      const raw = `q${uid}${Array.from(form.decor).slice(0, 30).join('')}`;
      return { raw, queryId: raw.trim() };
    }
    default:
      return { raw: `q${uid}`, queryId: `q${uid}` };
  }
}

function nested(depth: number, shape: 'array' | 'object', leaf = '1'): string {
  return shape === 'array' ? '['.repeat(depth) + leaf + ']'.repeat(depth) : '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
}

/** About `mb` MB of JSON: an array of small objects. */
function hugeJson(mb: number): string {
  const item = '{"k": "vvvvvvvvvvvvvvvvvvvvvvvv", "n": 12345},';
  return `[${item.repeat(Math.ceil((mb * 1024 * 1024) / item.length))}0]`;
}

/** JSON text of a query object, with its members in order, as raw JSON fragments. */
function queryText(members: Array<[string, string]>): string {
  return `{${members.map(([k, v]) => `${JSON.stringify(k)}: ${v}`).join(', ')}}`;
}

const j = (v: unknown): string => JSON.stringify(v);

/** Builds the row of a spec; `uid` makes its query id unique in the run. */
export function materialize(spec: RowSpec, uid: number, contextFile: string): Materialized {
  const sid = `q${uid}`;
  switch (spec.kind) {
    case 'valid': {
      const { raw, queryId } = idOf(spec.id, uid);
      const body: Record<string, unknown> = { type: 'query', query_id: raw, question: spec.question };
      if (spec.context === 'null') body.context_file = null;
      if (spec.context === 'inside') body.context_file = contextFile;
      if (spec.extra !== undefined) body.extra_field = spec.extra;
      let message: string;
      switch (spec.layout) {
        case 'pretty':
          message = JSON.stringify(body, null, 2);
          break;
        case 'python':
          message = pyJsonDumps(body);
          break;
        case 'padded':
          message = ` \n\t${JSON.stringify(body)}\r\n `;
          break;
        case 'dupType':
          // Duplicate keys: the last one counts (JSON.parse and Python's json alike).
          message = `{"type": "status", ${JSON.stringify(body).slice(1)}`;
          break;
        case 'protoKeys':
          message = `{"__proto__": {"question": 5, "type": "status", "polluted": true}, "constructor": {"prototype": {"polluted": true}}, ${JSON.stringify(body).slice(1)}`;
          break;
        default:
          message = JSON.stringify(body);
      }
      return { message, expected: { kind: 'answered', queryId } };
    }
    case 'flawed': {
      const { raw, queryId } = idOf(spec.id, uid);
      const members: Array<[string, string]> = [['type', '"query"'], ['query_id', j(raw)]];
      const question = (v: string) => members.push(['question', v]);
      const context = (v: string) => {
        question('"Q about a file"');
        members.push(['context_file', v]);
      };
      switch (spec.flaw) {
        case 'noQuestion': break;
        case 'questionNumber': question('42'); break;
        case 'questionArray': question('["a", "b"]'); break;
        case 'questionObject': question('{"text": "a"}'); break;
        case 'questionNull': question('null'); break;
        case 'questionBool': question('true'); break;
        case 'questionEmpty': question('""'); break;
        case 'questionBlank': question(j(' \n\t\u3000 ')); break;
        case 'questionTooLong': question(j('x'.repeat(50_001))); break;
        case 'questionDuplicateKey': question('"fine"'); question('42'); break;
        case 'contextNumber': context('7'); break;
        case 'contextArray': context(j([contextFile])); break;
        case 'contextEmpty': context('""'); break;
        case 'contextTooLong': context(j('a/'.repeat(2100))); break;
        case 'contextOutsideAbs': context('"/etc/passwd"'); break;
        case 'contextOutsideDots': context(j('../'.repeat(12) + 'etc/passwd')); break;
        case 'contextMissing': context(j(`missing-${uid}.md`)); break;
        case 'contextNul': context(j(`${contextFile}\u0000.md`)); break;
        case 'contextDir': context('"."'); break;
      }
      return { message: queryText(members), expected: { kind: 'rejected', queryId } };
    }
    case 'noType': {
      const { raw, queryId } = idOf(spec.id, uid);
      const body: Record<string, unknown> = { query_id: raw, ...(spec.hasQuestion ? { question: 'Q forgot the type' } : { note: 'no question' }) };
      return { message: j(body), expected: spec.hasQuestion ? { kind: 'rejected', queryId } : { kind: 'silent' } };
    }
    case 'otherType':
      return { message: j({ type: spec.type, ...(spec.withId ? { query_id: sid } : {}), question: 'Q of another type', action: 'shutdown' }), expected: { kind: 'silent' } };
    case 'badId': {
      const ids: Record<BadId, string | undefined> = {
        object: '{"id": "q"}', array: `["${sid}"]`, bool: 'true', null: 'null', float: '1.5', empty: '""', blank: '"  \\t "',
        long: j(`${sid}${'x'.repeat(200)}`), missing: undefined, unsafeInt: '9007199254740993',
      };
      const idText = ids[spec.badId];
      const members: Array<[string, string]> = [['type', '"query"'], ...(idText === undefined ? [] : [['query_id', idText] as [string, string]]), ['question', '"Q with a bad id"']];
      return { message: queryText(members), expected: { kind: 'silent' } };
    }
    case 'text':
      return { message: spec.text, expected: { kind: 'silent' } };
    case 'json':
      return { message: j(spec.value), expected: { kind: 'silent' } };
    case 'deep': {
      const deep = nested(spec.depth, spec.shape);
      const base: Array<[string, string]> = [['type', '"query"'], ['query_id', j(sid)]];
      switch (spec.where) {
        case 'top':
          return { message: deep, expected: { kind: 'silent' } };
        case 'question':
          return { message: queryText([...base, ['question', deep]]), expected: { kind: 'rejected', queryId: sid } };
        case 'extra':
          return { message: queryText([...base, ['question', '"Q with deep extras"'], ['extra', deep]]), expected: { kind: 'answered', queryId: sid } };
        case 'queryId':
          return { message: queryText([['type', '"query"'], ['query_id', deep], ['question', '"Q"']]), expected: { kind: 'silent' } };
      }
      break;
    }
    case 'huge': {
      const bytes = spec.mb * 1024 * 1024;
      const base: Array<[string, string]> = [['type', '"query"'], ['query_id', j(sid)]];
      switch (spec.where) {
        case 'top':
          return { message: hugeJson(spec.mb), expected: { kind: 'silent' } };
        case 'text':
          return { message: 'not json '.repeat(Math.ceil(bytes / 9)), expected: { kind: 'silent' } };
        case 'question':
          return { message: queryText([...base, ['question', j('y'.repeat(bytes))]]), expected: { kind: 'rejected', queryId: sid } };
        case 'extra':
          return { message: queryText([...base, ['question', '"Q with a huge extra"'], ['extra', hugeJson(spec.mb)]]), expected: { kind: 'answered', queryId: sid } };
        case 'queryId':
          return { message: queryText([['type', '"query"'], ['query_id', j('z'.repeat(bytes))], ['question', '"Q"']]), expected: { kind: 'silent' } };
      }
      break;
    }
    case 'nul':
      switch (spec.variant) {
        case 'rawInString':
          return { message: `{"type": "query", "query_id": "${sid}", "question": "a\u0000b"}`, expected: { kind: 'silent' } };
        case 'before':
          return { message: `\u0000{"type": "query", "query_id": "${sid}", "question": "Q"}`, expected: { kind: 'silent' } };
        case 'escapedQuestion':
          return { message: `{"type": "query", "query_id": "${sid}", "question": "Q\\u0000\\u0000 after NULs"}`, expected: { kind: 'answered', queryId: sid } };
        case 'escapedId':
          return { message: `{"type": "query", "query_id": "${sid}\\u0000nul", "question": "Q"}`, expected: { kind: 'answered', queryId: `${sid}\u0000nul` } };
      }
      break;
    case 'surrogate':
      switch (spec.variant) {
        case 'rawQuestion':
          return { message: `{"type": "query", "query_id": "${sid}", "question": "Q lone \ud800 and \udfff"}`, expected: { kind: 'answered', queryId: sid } };
        case 'escapedQuestion':
          return { message: `{"type": "query", "query_id": "${sid}", "question": "Q lone \\ud800 and \\udfff"}`, expected: { kind: 'answered', queryId: sid } };
        case 'escapedId':
          return { message: `{"type": "query", "query_id": "${sid}\\ud800", "question": "Q"}`, expected: { kind: 'answered', queryId: `${sid}\ud800` } };
        case 'rtlEmojiQuestion':
          return { message: j({ type: 'query', query_id: sid, question: 'Q \u202eevil\u202c \u2066isolate\u2069 👩‍👩‍👧 \u05e9\u05dc\u05d5\u05dd' }), expected: { kind: 'answered', queryId: sid } };
      }
      break;
    case 'boundary':
      // Python's len() counts code points: 50,000 emoji are 100,000 UTF-16 units and still fit.
      return { message: j({ type: 'query', query_id: sid, question: '🎉'.repeat(spec.over ? 50_001 : 50_000) }), expected: spec.over ? { kind: 'rejected', queryId: sid } : { kind: 'answered', queryId: sid } };
    case 'blob':
      return spec.valid
        ? { message: Buffer.from(j({ type: 'query', query_id: sid, question: 'Q stored as a BLOB' })), expected: { kind: 'answered', queryId: sid } }
        : { message: Buffer.from([0xff, 0xfe, 0x00, 0x7b, 0x80, 0xc0, 0x22]), expected: { kind: 'silent' } };
    case 'number':
      return { message: 42, expected: { kind: 'silent' } };
  }
  throw new Error(`unhandled spec ${JSON.stringify(spec)}`);
}
