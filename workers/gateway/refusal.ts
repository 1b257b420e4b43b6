/** A refusal thrown from anywhere in the gateway's chain: hono's HTTPException carrying a ready problem+json answer. */
import { HTTPException } from "hono/http-exception";
import { problemResponse, type Problem } from "../shared/http/problem.ts";

export function refuse(problem: Problem, headers?: Record<string, string>): never {
  throw new HTTPException(problem.status as 400, { res: problemResponse(problem, headers) });
}
