/** One answered HTTP request, as the API reports it and the request-duration metric records it. */
export interface RequestObservation {
  method: string;
  /** the matched route pattern (e.g. `/api/sessions/:id`), never the raw path */
  route: string;
  status: number;
  seconds: number;
}
