package dev.switchboard.lb.thrift;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a Thrift handler class with the service it implements, for {@link ThriftServer} to register
 * it under:
 *
 * <pre>{@code
 * @ThriftService(name = "echo", zone = "eu-west-1a", weight = 100)
 * final class EchoHandler implements Echo.Iface { ... }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface ThriftService {
  /** The service name clients balance over; not blank. */
  String name();

  /** The zone the server runs in; empty for none. */
  String zone() default "";

  /** The relative share of traffic, 0 to 10,000 (0: registered but takes no traffic). */
  int weight() default 100;
}
