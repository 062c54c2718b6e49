package dev.switchboard.lb.thrift;

import java.util.concurrent.CompletableFuture;
import org.apache.thrift.async.AsyncMethodCallback;

/** An {@link AsyncMethodCallback} as a future, for tests of asynchronous proxies. */
final class FutureCallback<T> extends CompletableFuture<T> implements AsyncMethodCallback<T> {
  @Override
  public void onComplete(T response) {
    complete(response);
  }

  @Override
  public void onError(Exception exception) {
    completeExceptionally(exception);
  }
}
