// Every line the stack prints goes through here so that output from parallel services stays recognisable.
export type Logger = (line: string) => void;

export const defaultLogger: Logger = (line) => process.stdout.write(`stack: ${line}\n`);
