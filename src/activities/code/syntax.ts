import { compileFunction } from 'node:vm';

/**
 * The syntax error of a code step's source, with its line and column, or undefined when it
 * compiles. The source is compiled as the body of `function (ctx, input)` and never run. V8 does
 * this check, in the process saving the definition: QuickJS's parser can exhaust the host's
 * native stack on deeply nested source before its own bound trips, V8's fails safely.
 * @example syntaxProblem('const a = 1;\n a b') // "SyntaxError: Unexpected identifier 'b' at line 2, column 4"
 */
export function syntaxProblem(source: string): string | undefined {
  try {
    compileFunction(source, ['ctx', 'input'], { filename: 'code.js' });
    return undefined;
  } catch (err) {
    if (err instanceof RangeError) return 'the source nests too deeply to compile';
    if (!(err instanceof SyntaxError)) return `the source does not compile: ${String(err)}`;
    return `SyntaxError: ${err.message}${position(err.stack ?? '')}`;
  }
}

/** V8 puts `code.js:LINE`, the line, and a caret under the column at the head of the stack. */
function position(stack: string): string {
  const [head, , caret] = stack.split('\n');
  const line = /^code\.js:(\d+)$/.exec(head ?? '')?.[1];
  if (!line) return '';
  const column = caret && /^\s*\^/.test(caret) ? caret.indexOf('^') + 1 : undefined;
  return ` at line ${line}${column ? `, column ${column}` : ''}`;
}
