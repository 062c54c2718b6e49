package dev.switchboard.lb.zookeeper;

import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.apache.curator.framework.api.ACLProvider;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;

/**
 * ZooKeeper's digest scheme on service and instance nodes (all rights for the credentials, read for
 * everyone, so watchers need none), and the open ACL on the base path and its ancestors, which
 * other services' registrants share. Immutable.
 */
final class DigestAclProvider implements ACLProvider {
  private final String basePath;
  private final List<ACL> protectedAcl;

  DigestAclProvider(String basePath, String credentials) {
    this.basePath = basePath;
    try {
      Id owner = new Id("digest", DigestAuthenticationProvider.generateDigest(credentials));
      // Not List.of: ZooKeeper asks the list whether it contains null.
      this.protectedAcl =
          Collections.unmodifiableList(
              Arrays.asList(
                  new ACL(ZooDefs.Perms.ALL, owner),
                  new ACL(ZooDefs.Perms.READ, ZooDefs.Ids.ANYONE_ID_UNSAFE)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-1 is not available for ZooKeeper digest ACLs", e);
    }
  }

  @Override
  public List<ACL> getDefaultAcl() {
    return protectedAcl;
  }

  @Override
  public List<ACL> getAclForPath(String path) {
    boolean aboveServices =
        basePath.equals("/")
            ? path.equals("/")
            : basePath.equals(path) || basePath.startsWith(path.endsWith("/") ? path : path + "/");
    return aboveServices ? ZooDefs.Ids.OPEN_ACL_UNSAFE : protectedAcl;
  }
}
