/** The API's error body and the problems it lists, as every endpoint sends them. */

/** One problem in a request body or config text: where (path, 1-based line/column; 0 = unknown) and what. */
export interface ApiProblem {
  path: string;
  line: number;
  column: number;
  message: string;
}

/** The JSON error body every failure returns. */
export interface ErrorBody {
  error: { code: string; message: string; problems?: ApiProblem[] };
}
