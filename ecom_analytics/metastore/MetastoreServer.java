/*
 * Hive's metastore service (Hive 2.3, from pyspark's own jars) on one address: `ecom metastore`.
 *
 * HiveMetaStore's own main listens on every interface, and Hive 2.3 has no setting that binds
 * it elsewhere. This class serves the same handler as HiveMetaStore.startMetaStore does without
 * SASL or TLS (a TUGIBasedProcessor over the binary protocol, one thread per connection), on the
 * address it is given. Janino, which Spark ships, compiles it when the JVM starts:
 *
 *   java -cp <folder of hive-site.xml>:<pyspark>/jars/* org.codehaus.janino.SimpleCompiler \
 *       MetastoreServer.java ecom_analytics.metastore.MetastoreServer <address> <port>
 *
 * The settings come from hive-site.xml; the password of a JDBC database from the environment
 * variable ECOM_METASTORE_JDBC_PASSWORD, so it is neither on a command line nor in a file.
 * Janino compiles Java without lambdas: the callbacks are anonymous classes.
 */
package ecom_analytics.metastore;

import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.sql.DriverManager;
import java.sql.SQLException;

import org.apache.hadoop.hive.conf.HiveConf;
import org.apache.hadoop.hive.metastore.HiveMetaStore;
import org.apache.hadoop.hive.metastore.IHMSHandler;
import org.apache.hadoop.hive.metastore.TUGIBasedProcessor;
import org.apache.hadoop.hive.thrift.TUGIContainingTransport;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.server.ServerContext;
import org.apache.thrift.server.TServer;
import org.apache.thrift.server.TServerEventHandler;
import org.apache.thrift.server.TThreadPoolServer;
import org.apache.thrift.transport.TServerSocket;
import org.apache.thrift.transport.TTransport;

public final class MetastoreServer {
    static final String PASSWORD_ENV = "ECOM_METASTORE_JDBC_PASSWORD";

    public static void main(String[] args) throws Throwable {
        if (args.length != 2) {
            System.err.println("usage: MetastoreServer <address> <port>");
            System.exit(2);
        }
        final String address = args[0];
        final int port = Integer.parseInt(args[1]);

        HiveConf.setLoadMetastoreConfig(true);
        HiveConf conf = new HiveConf(HiveMetaStore.HMSHandler.class);
        String password = System.getenv(PASSWORD_ENV);
        if (password != null && password.length() > 0) {
            conf.set("javax.jdo.option.ConnectionPassword", password);
        }
        // what HiveMetaStore.startMetaStore records: clients are remote (their addresses are
        // logged and checked as such)
        Field remote = HiveMetaStore.class.getDeclaredField("isMetaStoreRemote");
        remote.setAccessible(true);
        remote.setBoolean(null, true);

        long maxMessageSize = conf.getLongVar(HiveConf.ConfVars.METASTORESERVERMAXMESSAGESIZE);
        HiveMetaStore.HMSHandler baseHandler =
            new HiveMetaStore.HMSHandler("new db based metaserver", conf, false);
        IHMSHandler handler = HiveMetaStore.newRetryingHMSHandler(baseHandler, conf);

        TServerSocket socket = new TServerSocket(new InetSocketAddress(address, port));
        TThreadPoolServer.Args serverArgs = new TThreadPoolServer.Args(socket);
        serverArgs.processor(new TUGIBasedProcessor(handler));
        serverArgs.transportFactory(new TUGIContainingTransport.Factory());
        serverArgs.protocolFactory(new TBinaryProtocol.Factory());
        serverArgs.inputProtocolFactory(
            new TBinaryProtocol.Factory(true, true, maxMessageSize, maxMessageSize));
        serverArgs.minWorkerThreads(conf.getIntVar(HiveConf.ConfVars.METASTORESERVERMINTHREADS));
        serverArgs.maxWorkerThreads(conf.getIntVar(HiveConf.ConfVars.METASTORESERVERMAXTHREADS));
        final TServer server = new TThreadPoolServer(serverArgs);
        server.setServerEventHandler(new RawStoreCleanup());

        final boolean derby = conf.getVar(HiveConf.ConfVars.METASTORECONNECTURLKEY)
            .startsWith("jdbc:derby:");
        Runtime.getRuntime().addShutdownHook(new Thread() {
            public void run() {
                server.stop();
                if (derby) {
                    shutDownDerby();
                }
                System.out.println("Hive metastore service stopped.");
            }
        });
        System.out.println("Hive metastore service listening on " + address + ":" + port
            + ", database " + conf.getVar(HiveConf.ConfVars.METASTORECONNECTURLKEY)
            + ", warehouse " + conf.getVar(HiveConf.ConfVars.METASTOREWAREHOUSE));
        server.serve();
    }

    /** An embedded Derby database shut down cleanly needs no recovery at its next boot. */
    static void shutDownDerby() {
        try {
            DriverManager.getConnection("jdbc:derby:;shutdown=true");
        } catch (SQLException expected) {
            // Derby reports a successful shutdown as SQLState XJ015
        }
    }

    /**
     * As HiveMetaStore's own server: a connection's thread-local RawStore (its database
     * connection) is released when the connection ends.
     */
    static final class RawStoreCleanup implements TServerEventHandler {
        public void preServe() {
        }

        public ServerContext createContext(TProtocol input, TProtocol output) {
            return null;
        }

        public void deleteContext(ServerContext context, TProtocol input, TProtocol output) {
            try {
                Method cleanup = HiveMetaStore.class.getDeclaredMethod("cleanupRawStore");
                cleanup.setAccessible(true);
                cleanup.invoke(null);
            } catch (Exception error) {
                System.err.println("Could not release a connection's RawStore: " + error);
            }
        }

        public void processContext(ServerContext context, TTransport input, TTransport output) {
        }
    }
}
