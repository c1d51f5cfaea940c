# frozen_string_literal: true

module DeltaLake
  # A Delta table loaded at some version.
  class Table
    FSCK_METRICS_FILES_REMOVED_LABEL = "files_removed"

    # Load the table at `table_uri`, at its latest version unless `version` is given.
    #
    # @param table_uri [String] a local path or a URI (s3://, az://, gs://, file://)
    # @param version [Integer, nil]
    # @param storage_options [Hash{String=>String}, nil] credentials and endpoints
    # @param without_files [Boolean] accepted for compatibility; the file list is always loaded
    # @raise [TableNotFoundError] when there is no table (or no such version)
    def initialize(table_uri, version: nil, storage_options: nil, without_files: false, log_buffer_size: nil)
      raise ArgumentError, "table_uri must be a String, not #{table_uri.class}" unless table_uri.is_a?(String) || table_uri.is_a?(Pathname)
      raise ArgumentError, "version must be an Integer" unless version.nil? || version.is_a?(Integer)

      @storage_options = storage_options
      @table = RawDeltaTable.new(table_uri.to_s, version, Utils.string_hash(storage_options))
    end

    # Whether a Delta table exists at `table_uri`.
    # @return [Boolean]
    def self.exists?(table_uri, storage_options: nil)
      RawDeltaTable.is_deltatable(table_uri.to_s, Utils.string_hash(storage_options))
    end

    # @return [Integer] the loaded version
    def version
      @table.version
    end

    # @return [String] the table location as a URL
    def table_uri
      @table.table_uri
    end

    # The paths of the active files, relative to the table root.
    # @param partition_filters [String, nil] a SQL predicate on partition columns
    # @return [Array<String>]
    def files(partition_filters: nil)
      @table.files(Table.filter_sql(partition_filters))
    end

    # The absolute locations of the active files (local paths for local tables).
    # @param partition_filters [String, nil] a SQL predicate on partition columns
    # @return [Array<String>]
    def file_uris(partition_filters: nil)
      @table.file_uris(Table.filter_sql(partition_filters))
    end

    # The partition values of each active file (distinct), e.g. `[{"b" => "4"}, {"b" => "5"}]`.
    # @return [Array<Hash{String=>String, nil}>]
    def partitions(partition_filters: nil)
      @table.partitions(Table.filter_sql(partition_filters)).uniq
    end

    # @return [Schema] the table's columns
    def schema
      Schema.from_json(@table.schema_json)
    end

    # @return [Metadata]
    def metadata
      Metadata.new(@table.metadata)
    end

    # @return [ProtocolVersions]
    def protocol
      ProtocolVersions.new(*@table.protocol_versions)
    end

    # The commit information of the newest versions, newest first, each with its "version".
    # @param limit [Integer, nil]
    # @return [Array<Hash>]
    def history(limit: nil)
      @table.history(limit)
    end

    # Load another version: an Integer version, or the latest version committed at or before a
    # Time (or an ISO 8601 String).
    # @param version [Integer, Time, String]
    # @return [nil]
    def load_as_version(version)
      case version
      when Integer then @table.load_version(version)
      when Time, String, DateTime then @table.load_timestamp(Utils.timestamp_ms(version))
      else
        raise TypeError, "Invalid datatype provided for version, only Integer, String, and Time are accepted."
      end
      nil
    end

    # Move to the latest version, reading only the new commits.
    # @return [nil]
    def update_incremental
      @table.update_incremental
    end

    # The change data feed between two versions (or the versions at two times).
    # @return [ArrowArrayStream] with the columns and `_change_type`, `_commit_version`,
    #   `_commit_timestamp`
    def load_cdf(
      starting_version: 0,
      ending_version: nil,
      starting_timestamp: nil,
      ending_timestamp: nil,
      columns: nil,
      allow_out_of_range: false,
      predicate: nil
    )
      @table.load_cdf(
        starting_version,
        ending_version,
        starting_timestamp && Utils.timestamp_ms(starting_timestamp),
        ending_timestamp && Utils.timestamp_ms(ending_timestamp),
        Utils.string_list(columns, "columns"),
        allow_out_of_range,
        predicate
      )
    end

    # A stream of the table's rows (of `columns` only, of the rows matching the SQL `predicate`
    # only), read batch by batch as it is consumed.
    # @return [ArrowArrayStream]
    def scan(columns: nil, predicate: nil)
      raise ArgumentError, "predicate must be a String" unless predicate.nil? || predicate.is_a?(String)

      @table.scan(Utils.string_list(columns, "columns"), predicate)
    end

    # Every row as a Hash (Integer, Float, String, true/false, Time in UTC, Date, BigDecimal,
    # nil, Hash and Array for nested values, binary as ASCII-8BIT Strings).
    # @return [Array<Hash{String=>Object}>]
    def to_a(columns: nil, predicate: nil)
      scan(columns: columns, predicate: predicate).to_a
    end

    # Yield the rows batch by batch (an Array of Hashes each), never the whole table in memory.
    # @return [Enumerator, nil] an Enumerator without a block
    def each_batch(columns: nil, predicate: nil, &block)
      scan(columns: columns, predicate: predicate).each_batch(&block)
    end

    # Yield each row as a Hash, reading batch by batch.
    # @return [Enumerator, nil] an Enumerator without a block
    def each_row(columns: nil, predicate: nil, &block)
      scan(columns: columns, predicate: predicate).each_row(&block)
    end

    # The table through the Arrow C stream interface (`Polars::DataFrame.new(table)` and
    # red-arrow read it).
    # @return [ArrowArrayStream]
    def arrow_c_stream
      scan
    end

    # The table as a polars-df DataFrame (or LazyFrame), read through the Arrow C stream.
    # @return [Polars::DataFrame, Polars::LazyFrame]
    def to_polars(eager: true, rechunk: false, columns: nil)
      require "polars-df"

      df = Polars::DataFrame.new(scan(columns: columns))
      df = df.rechunk if rechunk
      eager ? df : df.lazy
    end

    # Delete the files no version within the retention needs.
    # @param retention_hours [Integer, nil] default: the table's deletedFileRetentionDuration
    # @param dry_run [Boolean] only list the files (the default)
    # @param enforce_retention_duration [Boolean] refuse a retention shorter than the table's
    # @param full [Boolean] also delete files never committed (lists the whole directory)
    # @return [Array<String>] the files deleted (or that would be)
    def vacuum(
      retention_hours: nil,
      dry_run: true,
      enforce_retention_duration: true,
      full: false,
      post_commithook_properties: nil,
      commit_properties: nil
    )
      if retention_hours && retention_hours.negative?
        raise ArgumentError, "The retention periods should be positive."
      end

      @table.vacuum(dry_run, retention_hours, enforce_retention_duration, full, Utils.commit_json(commit_properties))
    end

    # @return [TableOptimizer] compaction and Z-ordering
    def optimize
      TableOptimizer.new(self)
    end

    # @return [TableAlterer] constraints, columns, properties and features
    def alter
      TableAlterer.new(self)
    end

    # Start a merge of `source` (rows, columns or Arrow data) into the table, joined on the SQL
    # `predicate`; add clauses to the returned {TableMerger} and call {TableMerger#execute}.
    # @return [TableMerger]
    def merge(
      source,
      predicate,
      source_alias: nil,
      target_alias: nil,
      error_on_type_mismatch: true,
      merge_schema: false,
      writer_properties: nil,
      post_commithook_properties: nil,
      commit_properties: nil
    )
      raise ArgumentError, "predicate must be a String" unless predicate.is_a?(String)

      TableMerger.new(self, source, predicate, source_alias, target_alias, merge_schema, writer_properties, commit_properties)
    end

    # Restore the table to an earlier version (an Integer) or to the version current at a Time,
    # as a new commit.
    # @return [Hash] the metrics ("numRestoredFile", "numRemovedFile", ...)
    def restore(target, ignore_missing_files: false, protocol_downgrade_allowed: false, commit_properties: nil)
      version, timestamp =
        case target
        when Integer then [target, nil]
        when Time, String, DateTime then [nil, Utils.timestamp_ms(target)]
        else raise TypeError, "target must be an Integer version or a Time, not #{target.class}"
        end
      @table.restore(version, timestamp, ignore_missing_files, protocol_downgrade_allowed, Utils.commit_json(commit_properties))
    end

    # Delete the rows matching the SQL `predicate` (every row without one).
    # @return [Hash{Symbol=>Object}] the metrics (:num_deleted_rows, :num_added_files, ...)
    def delete(predicate = nil, writer_properties: nil, post_commithook_properties: nil, commit_properties: nil)
      raise ArgumentError, "predicate must be a String" unless predicate.nil? || predicate.is_a?(String)

      @table.delete(predicate, Utils.writer_json(writer_properties), Utils.commit_json(commit_properties)).transform_keys(&:to_sym)
    end

    # Set columns to SQL expressions in the rows matching `predicate` (every row without one).
    # @param updates [Hash{String=>String}] column => SQL expression
    # @return [Hash{Symbol=>Object}] the metrics (:num_updated_rows, ...)
    def update(updates, predicate: nil, writer_properties: nil, post_commithook_properties: nil, commit_properties: nil)
      raise ArgumentError, "updates must be a Hash of column => SQL expression" unless updates.is_a?(Hash) && !updates.empty?

      pairs = updates.map { |k, v| [k.to_s, v.to_s] }
      @table.update(pairs, predicate, Utils.writer_json(writer_properties), Utils.commit_json(commit_properties))
        .transform_keys(&:to_sym)
    end

    # Remove from the log the files missing from storage.
    # @return [Hash{Symbol=>Object}] :dry_run and :files_removed
    def repair(dry_run: false, post_commithook_properties: nil, commit_properties: nil)
      @table.repair(dry_run, Utils.commit_json(commit_properties)).transform_keys(&:to_sym)
    end

    # Write a checkpoint of the loaded version.
    # @return [nil]
    def create_checkpoint
      @table.create_checkpoint
      nil
    end

    # Delete the log files older than the log retention that no retained version needs.
    # @return [Integer] how many were deleted
    def cleanup_metadata
      @table.cleanup_metadata
    end

    # The latest version recorded for application `app_id`, or nil.
    # @return [Integer, nil]
    def transaction_version(app_id)
      @table.transaction_version(app_id.to_s)
    end

    # @return [String]
    def inspect
      "#<DeltaLake::Table #{table_uri} version=#{version}>"
    end

    # @!visibility private
    def _table
      @table
    end

    # @!visibility private
    # A SQL predicate of partition filters: a String as is, or `[[column, op, value], ...]`
    # (all must hold).
    def self.filter_sql(filters)
      case filters
      when nil, String then filters
      when Array
        filters.map { |column, op, value| "#{quote_column(column)} #{filter_op(op, value)}" }.join(" AND ")
      else raise ArgumentError, "partition_filters must be a SQL String or an Array of [column, op, value]"
      end
    end

    # @!visibility private
    def self.quote_column(column)
      "\"#{column.to_s.gsub('"', '""')}\""
    end

    # @!visibility private
    def self.filter_op(op, value)
      case op.to_s
      when "=", "!=", "<", "<=", ">", ">=" then "#{op} #{sql_literal(value)}"
      when "in" then "IN (#{Array(value).map { |v| sql_literal(v) }.join(", ")})"
      when "not in" then "NOT IN (#{Array(value).map { |v| sql_literal(v) }.join(", ")})"
      else raise ArgumentError, "unsupported filter operator #{op.inspect}"
      end
    end

    # @!visibility private
    def self.sql_literal(value)
      case value
      when nil then "NULL"
      when Numeric, true, false then value.to_s
      else "'#{value.to_s.gsub("'", "''")}'"
      end
    end
  end
end
