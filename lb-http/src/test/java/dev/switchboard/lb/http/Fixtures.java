package dev.switchboard.lb.http;

import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.EndpointSnapshot;
import dev.switchboard.lb.OutlierDetection;
import dev.switchboard.lb.RetryPolicy;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.StaticRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/** Clusters, clients and TLS material for this module's tests. */
final class Fixtures {
  /** Generous retries, so that tests see the policy decide, not the budget. */
  static final RetryPolicy RETRIES =
      new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(5), 100, 100);

  private Fixtures() {}

  /** An HTTP/1.1 client with a short connect timeout. */
  static HttpClient http() {
    return HttpClient.newBuilder()
        .version(HttpClient.Version.HTTP_1_1)
        .connectTimeout(Duration.ofSeconds(1))
        .build();
  }

  /** A cluster builder over {@code instances} in a fresh static registry. */
  static Cluster.Builder cluster(BalancingPolicy policy, ServiceInstance... instances) {
    return Cluster.builder(Backend.SERVICE)
        .registry(StaticRegistry.of(instances))
        .policy(policy)
        .updateDebounce(Duration.ZERO)
        .retryPolicy(RETRIES);
  }

  /** Builds the cluster and waits until all {@code expected} members take traffic. */
  static Cluster started(Cluster.Builder builder, int expected) {
    Cluster cluster = builder.build();
    await().atMost(5, TimeUnit.SECONDS).until(() -> cluster.snapshot().eligibleCount() == expected);
    return cluster;
  }

  static ServiceInstance[] instances(Backend... backends) {
    List<ServiceInstance> list = new ArrayList<>();
    for (Backend b : backends) {
      list.add(b.instance());
    }
    return list.toArray(ServiceInstance[]::new);
  }

  /** A member of {@link Backend#SERVICE} at a local port nothing listens on. */
  static ServiceInstance deadInstance(String id) throws IOException {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    return ServiceInstance.builder(Backend.SERVICE, "127.0.0.1", port).id(id).build();
  }

  /** A request to {@code lb://echo{pathAndQuery}}. */
  static HttpRequest.Builder request(String pathAndQuery) {
    return LoadBalancedHttpClient.newRequest("lb://" + Backend.SERVICE + pathAndQuery);
  }

  static EndpointSnapshot endpoint(Cluster cluster, String id) {
    return cluster.snapshot().endpoints().stream()
        .filter(e -> e.instance().id().equals(id))
        .findFirst()
        .orElseThrow(() -> new AssertionError("no member " + id));
  }

  static int totalInFlight(Cluster cluster) {
    return cluster.snapshot().endpoints().stream().mapToInt(EndpointSnapshot::inFlight).sum();
  }

  static OutlierDetection noEjection() {
    return OutlierDetection.disabled();
  }

  // ---- TLS ----------------------------------------------------------------------------------

  /** A self-signed certificate for 127.0.0.1 and localhost, made by the JDK's keytool. */
  static final class SelfSigned {
    final SSLContext server;
    final SSLContext client;

    private SelfSigned(SSLContext server, SSLContext client) {
      this.server = server;
      this.client = client;
    }

    static SelfSigned generate(Path dir) throws IOException, GeneralSecurityException {
      Path keystore = dir.resolve("server.p12");
      char[] password = "changeit".toCharArray();
      Path keytool = Path.of(System.getProperty("java.home"), "bin", "keytool");
      Process p =
          new ProcessBuilder(
                  keytool.toString(),
                  "-genkeypair",
                  "-alias",
                  "server",
                  "-keyalg",
                  "EC",
                  "-groupname",
                  "secp256r1",
                  "-dname",
                  "CN=localhost",
                  "-ext",
                  "SAN=ip:127.0.0.1,dns:localhost",
                  "-validity",
                  "2",
                  "-storetype",
                  "PKCS12",
                  "-keystore",
                  keystore.toString(),
                  "-storepass",
                  "changeit",
                  "-keypass",
                  "changeit")
              .redirectErrorStream(true)
              .start();
      String output;
      try (InputStream out = p.getInputStream()) {
        output = new String(out.readAllBytes());
      }
      try {
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
          throw new IOException("keytool failed: " + output);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted waiting for keytool", e);
      }
      KeyStore ks = KeyStore.getInstance("PKCS12");
      try (InputStream in = Files.newInputStream(keystore)) {
        ks.load(in, password);
      }
      KeyManagerFactory kmf =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, password);
      SSLContext server = SSLContext.getInstance("TLS");
      server.init(kmf.getKeyManagers(), null, null);

      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("server", ks.getCertificate("server"));
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext client = SSLContext.getInstance("TLS");
      client.init(null, tmf.getTrustManagers(), null);
      return new SelfSigned(server, client);
    }
  }
}
