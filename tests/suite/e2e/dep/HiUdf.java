package dep;

import org.apache.spark.sql.api.java.UDF1;

/** Runs on the executors: `hi(id)` is `HELLO <id>`. */
public final class HiUdf implements UDF1<Long, String> {
    @Override
    public String call(Long id) {
        return Hello.hi() + " " + id;
    }
}
