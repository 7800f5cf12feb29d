import java.util.ArrayList;
import java.util.List;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.storage.RDDInfo;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.LongAccumulator;

/**
 * Caches an RDD on every executor, says CACHED, waits until one executor has gone (its worker
 * decommissioned), and reads the RDD again: with the blocks moved off the leaving executor, no
 * partition is computed a second time. Prints `MIGRATED <computations> <cached partitions>`.
 * Arguments: the executors to wait for, and how long to wait in all (seconds, default 120).
 */
public final class DecomJob {
    private static final int PARTITIONS = 8;

    public static void main(String[] args) throws InterruptedException {
        try (JavaSparkContext sc = new JavaSparkContext(new SparkConf().setAppName("sparkup-decommission"))) {
            int executors = Integer.parseInt(args[0]);
            long seconds = args.length > 1 ? Long.parseLong(args[1]) : 120;
            long deadline = System.currentTimeMillis() + seconds * 1000;
            while (liveExecutors(sc) < executors && System.currentTimeMillis() < deadline) {
                Thread.sleep(200);
            }
            LongAccumulator computed = sc.sc().longAccumulator("computed");
            List<Integer> numbers = new ArrayList<>();
            for (int i = 0; i < 10_000; i++) {
                numbers.add(i);
            }
            JavaRDD<Integer> rdd = sc.parallelize(numbers, PARTITIONS)
                .mapPartitions(it -> {
                    computed.add(1);
                    return it;
                })
                .persist(StorageLevel.MEMORY_ONLY());
            rdd.count();
            System.out.println("CACHED " + computed.value() + " on " + liveExecutors(sc) + " executors");
            System.out.flush();
            while (liveExecutors(sc) >= executors && System.currentTimeMillis() < deadline) {
                Thread.sleep(200);
            }
            rdd.count();
            int cached = 0;
            for (RDDInfo info : sc.sc().getRDDStorageInfo()) {
                if (info.id() == rdd.id()) {
                    cached = info.numCachedPartitions();
                }
            }
            System.out.println("MIGRATED " + computed.value() + " " + cached);
        }
    }

    /** Executors other than the driver. */
    private static int liveExecutors(JavaSparkContext sc) {
        return sc.sc().getExecutorMemoryStatus().size() - 1;
    }
}
