/** The one error type every parser in sense/ throws for malformed input. */
export class ParseError extends Error {
  /** Which file kind was being parsed, e.g. "memory.pressure". */
  readonly fileKind: string;

  constructor(fileKind: string, detail: string) {
    super(`Cannot parse "${fileKind}": ${detail}`);
    this.name = "ParseError";
    this.fileKind = fileKind;
  }
}
