import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

import scala.Tuple2;

/**
 * Sums the squares of 1..n on the cluster's executors, then sums 1..n by residue mod 7 through a
 * shuffle (which writes compressed shuffle files, loading the codec's native library from the
 * executor's scratch space): both results are known in closed form.
 */
public final class SumJob {
    public static void main(String[] args) {
        int n = Integer.parseInt(args[0]);
        List<Long> numbers = new ArrayList<>();
        for (long i = 1; i <= n; i++) {
            numbers.add(i);
        }
        try (JavaSparkContext sc = new JavaSparkContext(new SparkConf().setAppName("sparkup-e2e"))) {
            long sum = sc.parallelize(numbers, 8).map(x -> x * x).reduce(Long::sum);
            System.out.println("RESULT " + sum);
            Map<Long, Long> byResidue = sc.parallelize(numbers, 8)
                .mapToPair(x -> new Tuple2<>(x % 7, x))
                .reduceByKey(Long::sum, 4)
                .collectAsMap();
            long total = byResidue.values().stream().mapToLong(Long::longValue).sum();
            System.out.println("SHUFFLE " + byResidue.size() + " " + total);
        }
    }
}
