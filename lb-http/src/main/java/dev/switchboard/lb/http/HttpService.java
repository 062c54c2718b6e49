package dev.switchboard.lb.http;

import dev.switchboard.lb.ServiceInstance;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Declares which service an HTTP server (its handler or application class) provides, and how it
 * registers; read by {@link HttpServiceRegistration}, which fails fast on a blank name or a weight
 * out of range. The Thrift side's {@code @ThriftService} has the same elements. Read once, when the
 * registration is built.
 *
 * <pre>{@code
 * @HttpService(name = "echo", zone = "eu-west-1a", weight = 100)
 * final class EchoHandler implements HttpHandler { ... }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface HttpService {

  /** The service name clients address ({@code lb://{name}/...}); not blank. */
  String name();

  /** The zone the server runs in; empty when unknown. */
  String zone() default ServiceInstance.NO_ZONE;

  /** The server's relative share of traffic, 0 to {@value ServiceInstance#MAX_WEIGHT}. */
  int weight() default ServiceInstance.DEFAULT_WEIGHT;
}
