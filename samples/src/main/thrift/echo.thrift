/*
 * The samples' Echo service: the same service as lb-thrift's test IDL (src/test/thrift/echo.thrift),
 * in the samples' own package, so the samples and the demo need no test-jar.
 *
 * The generated Java is committed (src/main/gen-java, from the same 0.24.0 compiler as lb-thrift's).
 * After editing this file run samples/scripts/regenerate-thrift.sh; never edit the generated code by
 * hand.
 */

namespace java dev.switchboard.lb.samples.echo

/** The declared exception thrown by Echo.fail: an application result, not a transport failure. */
exception EchoFailure {
  1: string reason
}

service Echo {
  /** Returns message unchanged. */
  string echo(1: string message),

  /** Delivers message with no reply; the client returns once the request is written. */
  oneway void fire(1: string message),

  /** Always throws EchoFailure whose reason is message. */
  string fail(1: string message) throws (1: EchoFailure failure),

  /** Sleeps for millis milliseconds, then returns message: a slow server or a call past its deadline. */
  string sleep(1: i32 millis, 2: string message),

  /**
   * Returns how many calls of the other methods this server has handled (oneway ones included);
   * count itself is not counted, so asking does not change the answer.
   */
  i64 count(),

  /** Returns the server's identity, for example "127.0.0.1:port". */
  string whoami()
}
