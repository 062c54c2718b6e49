package dev.switchboard.lb.thrift;

import java.util.concurrent.atomic.AtomicInteger;
import org.apache.thrift.TException;
import org.apache.thrift.TProcessor;
import org.apache.thrift.protocol.TProtocol;

/** Counts calls being processed, so a draining server knows when its last call finished. */
final class CountingProcessor implements TProcessor {
  private final TProcessor delegate;
  private final AtomicInteger inFlight = new AtomicInteger();

  CountingProcessor(TProcessor delegate) {
    this.delegate = delegate;
  }

  @Override
  public void process(TProtocol in, TProtocol out) throws TException {
    inFlight.incrementAndGet();
    try {
      delegate.process(in, out);
    } finally {
      inFlight.decrementAndGet();
    }
  }

  int inFlight() {
    return inFlight.get();
  }
}
