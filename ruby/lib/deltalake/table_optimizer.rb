# frozen_string_literal: true

module DeltaLake
  # The ways of rewriting a table's files: {#compact} and {#z_order}.
  class TableOptimizer
    # @!visibility private
    def initialize(table)
      @table = table
    end

    # Merge small files into files of about `target_size` bytes.
    # @param partition_filters [String, Array, nil] only the partitions matching
    # @return [Hash] the metrics ("numFilesAdded", "numFilesRemoved", "filesAdded", ...)
    def compact(
      partition_filters: nil,
      target_size: nil,
      max_concurrent_tasks: nil,
      min_commit_interval: nil,
      writer_properties: nil,
      post_commithook_properties: nil,
      commit_properties: nil
    )
      run(nil, partition_filters, target_size, max_concurrent_tasks, writer_properties, commit_properties)
    end

    # Rewrite the files sorted by the Z-order of `columns`, so that similar rows share files.
    # @param columns [String, Array<String>]
    # @return [Hash] the metrics
    def z_order(
      columns,
      partition_filters: nil,
      target_size: nil,
      max_concurrent_tasks: nil,
      max_spill_size: nil,
      max_temp_directory_size: nil,
      min_commit_interval: nil,
      writer_properties: nil,
      post_commithook_properties: nil,
      commit_properties: nil
    )
      columns = Array(columns).map(&:to_s)
      raise ArgumentError, "z_order needs at least one column" if columns.empty?

      run(columns, partition_filters, target_size, max_concurrent_tasks, writer_properties, commit_properties)
    end

    private

    def run(columns, partition_filters, target_size, max_concurrent_tasks, writer_properties, commit_properties)
      @table._table.optimize(
        columns,
        Table.filter_sql(partition_filters),
        target_size,
        max_concurrent_tasks,
        Utils.writer_json(writer_properties),
        Utils.commit_json(commit_properties)
      )
    end
  end
end
