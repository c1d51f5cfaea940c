# frozen_string_literal: true

# stdlib
require "bigdecimal"
require "date"
require "json"
require "time"
require "pathname"

# the native extension (built by `rake compile`, or by `gem install` from the source gem)
begin
  require "deltalake/#{RUBY_VERSION.to_f}/deltalake_ruby"
rescue LoadError
  require "deltalake/deltalake_ruby"
end

require_relative "deltalake/version"
require_relative "deltalake/field"
require_relative "deltalake/schema"
require_relative "deltalake/metadata"
require_relative "deltalake/arrow_array_stream"
require_relative "deltalake/table"
require_relative "deltalake/table_alterer"
require_relative "deltalake/table_merger"
require_relative "deltalake/table_optimizer"

# Delta Lake tables for Ruby: read, write and maintain them, on a native Rust core.
#
# The native extension defines the exception classes: {DeltaLake::Error} (a StandardError) with
# {DeltaLake::TableNotFoundError}, {DeltaLake::DeltaProtocolError}, {DeltaLake::CommitFailedError},
# {DeltaLake::SchemaMismatchError} and {DeltaLake::NotSupportedError} below it, and
# {DeltaLake::InvalidArgumentError}, an ArgumentError, for bad arguments.
module DeltaLake
  # The protocol versions and table features a table requires.
  ProtocolVersions =
    Struct.new(
      :min_reader_version,
      :min_writer_version,
      :writer_features,
      :reader_features
    )

  # Settings of the commit an operation ends with.
  #
  # @!attribute custom_metadata
  #   @return [Hash, nil] fields added to the commit's commitInfo
  # @!attribute max_commit_retries
  #   @return [Integer, nil] retries after a conflicting concurrent commit
  # @!attribute app_transactions
  #   @return [Array<Transaction>, nil] application transactions recorded by a write
  CommitProperties =
    Struct.new(
      :custom_metadata,
      :max_commit_retries,
      :app_transactions,
      keyword_init: true
    )

  # An application transaction: the `version` an application `app_id` has committed.
  Transaction = Struct.new(:app_id, :version, keyword_init: true)

  # Parquet settings of the files an operation writes (every one optional: nil keeps the
  # default), as the `deltalake` Python package's `WriterProperties`.
  #
  # @example
  #   props = DeltaLake::WriterProperties.new(
  #     compression: "ZSTD", compression_level: 3, max_row_group_size: 100_000,
  #     column_properties: {"id" => DeltaLake::ColumnProperties.new(
  #       bloom_filter_properties: DeltaLake::BloomFilterProperties.new(set_bloom_filter_enabled: true)
  #     )}
  #   )
  #   DeltaLake.write("/tmp/events", rows, mode: "append", writer_properties: props)
  #
  # @!attribute compression
  #   @return [String, nil] UNCOMPRESSED, SNAPPY (default), GZIP, BROTLI, LZ4, LZ4_RAW or ZSTD
  # @!attribute compression_level
  #   @return [Integer, nil] gzip 0-9, brotli 0-11, zstd 1-22
  # @!attribute column_properties
  #   @return [Hash{String=>ColumnProperties}, nil] settings of single columns
  # @!attribute default_column_properties
  #   @return [ColumnProperties, nil] settings of the other columns
  WriterProperties =
    Struct.new(
      :data_page_size_limit,
      :dictionary_page_size_limit,
      :data_page_row_count_limit,
      :write_batch_size,
      :max_row_group_size,
      :compression,
      :compression_level,
      :statistics_truncate_length,
      :default_column_properties,
      :column_properties,
      keyword_init: true
    )

  # Parquet settings of one column: `dictionary_enabled` (Boolean), `statistics_enabled` ("NONE",
  # "CHUNK" or "PAGE"), `encoding` ("PLAIN", "DELTA_BINARY_PACKED", ...) and
  # `bloom_filter_properties` ({BloomFilterProperties}).
  ColumnProperties =
    Struct.new(:dictionary_enabled, :statistics_enabled, :encoding, :bloom_filter_properties, keyword_init: true)

  # A column's bloom filter: `set_bloom_filter_enabled`, its false-positive probability `fpp` and
  # the distinct values expected per row group `ndv`.
  BloomFilterProperties = Struct.new(:set_bloom_filter_enabled, :fpp, :ndv, keyword_init: true)

  # Accepted for compatibility with deltalake-rb; checkpoints and log cleanup follow the table's
  # properties.
  PostCommitHookProperties =
    Struct.new(
      :create_checkpoint,
      :cleanup_expired_logs,
      keyword_init: true
    )

  class << self
    # @!method init_logging
    #   Show the core's progress on standard error: each operation with its figures when it
    #   finishes, commits retried after a conflict, vacuum and optimize. The RUST_LOG environment
    #   variable filters it (e.g. "deltalake=debug"); "deltalake=info" when unset.
    #   @return [Boolean] false, changing nothing, when logging was already set up
    #   (defined by the native extension)

    # Write data into a table, creating it when missing.
    #
    # @param table_or_uri [String, Table] the table, or its URI or local path
    # @param data [Array<Hash>, Hash{String=>Array}, #arrow_c_stream] rows, columns, or Arrow data
    #   (a polars-df DataFrame, a red-arrow Table, a {DeltaLake::ArrowArrayStream})
    # @param mode [String] "error" (the default: fail when the table exists), "append",
    #   "overwrite" or "ignore"
    # @param partition_by [String, Array<String>, nil] partition columns of a new table
    # @param schema_mode [String, nil] "merge" or "overwrite" to change the table's schema
    # @param name [String, nil] name of a new table
    # @param description [String, nil] description of a new table
    # @param configuration [Hash{String=>String}, nil] table properties of a new table
    # @param predicate [String, nil] with mode "overwrite", replace only the rows matching it
    # @param storage_options [Hash{String=>String}, nil] credentials and endpoints
    # @param target_file_size [Integer, nil] roll to a new file past about this many bytes
    # @param commit_properties [CommitProperties, nil]
    # @return [nil]
    # @raise [SchemaMismatchError] when the data does not fit the table
    def write(
      table_or_uri,
      data,
      partition_by: nil,
      mode: "error",
      name: nil,
      description: nil,
      configuration: nil,
      schema_mode: nil,
      storage_options: nil,
      predicate: nil,
      target_file_size: nil,
      writer_properties: nil,
      commit_properties: nil,
      post_commithook_properties: nil
    )
      table, table_uri = table_and_uri(table_or_uri, storage_options)
      return if table && mode.to_s == "ignore"

      partition_by = [partition_by] if partition_by.is_a?(String) || partition_by.is_a?(Symbol)
      _write(
        table ? table._table : table_uri,
        data,
        mode.to_s,
        schema_mode&.to_s,
        partition_by&.map(&:to_s),
        predicate,
        Utils.writer_json(writer_properties, target_file_size),
        name,
        description,
        Utils.string_hash(configuration),
        Utils.string_hash(storage_options),
        Utils.commit_json(commit_properties)
      )
      nil
    end

    private

    def table_and_uri(table_or_uri, storage_options)
      case table_or_uri
      when Table
        [table_or_uri, table_or_uri.table_uri]
      when String, Pathname
        uri = table_or_uri.to_s
        table =
          begin
            Table.new(uri, storage_options: storage_options)
          rescue TableNotFoundError
            nil
          end
        [table, uri]
      else
        raise ArgumentError, "table_or_uri must be a String or a DeltaLake::Table, not #{table_or_uri.class}"
      end
    end
  end

  # Conversions of arguments shared by the classes.
  module Utils
    module_function

    # A Hash with String keys and values, or nil.
    def string_hash(hash)
      return nil if hash.nil?
      raise ArgumentError, "expected a Hash, not #{hash.class}" unless hash.is_a?(Hash)

      hash.to_h { |k, v| [k.to_s, v.to_s] }
    end

    # An Array of Strings (column names), or nil.
    def string_list(list, what)
      return nil if list.nil?
      raise ArgumentError, "#{what} must be an Array of Strings, not #{list.class}" unless list.is_a?(Array)

      list.map(&:to_s)
    end

    # The JSON the extension reads writer properties from (with `target_file_size`), or nil.
    def writer_json(properties, target_file_size = nil)
      return nil if properties.nil? && target_file_size.nil?
      unless properties.nil? || properties.is_a?(WriterProperties)
        raise ArgumentError, "writer_properties must be a DeltaLake::WriterProperties, not #{properties.class}"
      end

      hash = properties ? plain(properties) : {}
      hash["target_file_size"] = target_file_size if target_file_size
      JSON.generate(hash)
    end

    # A Struct of settings (nested ones too) as a Hash with String keys, nils left out.
    def plain(value)
      case value
      when Struct then value.to_h.compact.to_h { |k, v| [k.to_s, plain(v)] }
      when Hash then value.to_h { |k, v| [k.to_s, plain(v)] }
      else value
      end
    end

    # The JSON the extension reads commit properties from, or nil.
    def commit_json(properties)
      return nil if properties.nil?
      raise ArgumentError, "commit_properties must be a DeltaLake::CommitProperties" unless properties.is_a?(CommitProperties)

      JSON.generate(
        "custom_metadata" => properties.custom_metadata,
        "max_commit_retries" => properties.max_commit_retries,
        "app_transactions" => Array(properties.app_transactions).map { |t| [t.app_id.to_s, t.version] }
      )
    end

    # Milliseconds since the epoch of a Time, or of a String in ISO 8601.
    def timestamp_ms(value)
      time =
        case value
        when Time then value
        when DateTime then value.to_time
        when Date then Time.utc(value.year, value.month, value.day)
        when String
          begin
            Time.iso8601(value)
          rescue ArgumentError
            begin
              Time.parse(value)
            rescue ArgumentError
              raise ArgumentError, "invalid time: #{value.inspect} (use ISO 8601, e.g. 2024-01-01T00:00:00Z)"
            end
          end
        else
          raise TypeError, "expected a Time or an ISO 8601 String, not #{value.class}"
        end
      (time.to_r * 1000).floor
    end
  end
end
