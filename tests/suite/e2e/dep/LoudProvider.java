package dep;

import org.apache.spark.SparkConf;
import org.apache.spark.deploy.history.FsHistoryProvider;

/** The history server's provider, from the cluster's dependencies: says it was loaded. */
public final class LoudProvider extends FsHistoryProvider {
    public LoudProvider(SparkConf conf) {
        super(conf);
        System.out.println("DEPENDENCY PROVIDER LOADED");
        System.out.flush();
    }
}
