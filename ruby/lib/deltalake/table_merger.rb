# frozen_string_literal: true

module DeltaLake
  # A merge being built: add `when_*` clauses, then {#execute} it. Clauses of each kind are tried
  # in the order they were added.
  class TableMerger
    # @!visibility private
    def initialize(table, source, predicate, source_alias, target_alias, merge_schema, writer_properties, commit_properties)
      @table = table
      @source = source
      @predicate = predicate
      @source_alias = source_alias
      @target_alias = target_alias
      @merge_schema = merge_schema
      @writer_properties = writer_properties
      @commit_properties = commit_properties
      @clauses = []
    end

    # Set columns of the matched target rows.
    # @param updates [Hash{String=>String}] target column => SQL expression
    # @return [TableMerger] self
    def when_matched_update(updates, predicate: nil)
      add("when_matched_update", predicate, assignments(updates), nil)
    end

    # Set every column of the matched target rows from the source (except `except`).
    # @return [TableMerger] self
    def when_matched_update_all(predicate: nil, except: nil)
      add("when_matched_update_all", predicate, nil, except)
    end

    # Delete the matched target rows.
    # @return [TableMerger] self
    def when_matched_delete(predicate: nil)
      add("when_matched_delete", predicate, nil, nil)
    end

    # Insert the source rows no target row matches, with the columns given.
    # @param updates [Hash{String=>String}] target column => SQL expression
    # @return [TableMerger] self
    def when_not_matched_insert(updates, predicate: nil)
      add("when_not_matched_insert", predicate, assignments(updates), nil)
    end

    # Insert the source rows no target row matches, every column (except `except`).
    # @return [TableMerger] self
    def when_not_matched_insert_all(predicate: nil, except: nil)
      add("when_not_matched_insert_all", predicate, nil, except)
    end

    # Set columns of the target rows no source row matches.
    # @param updates [Hash{String=>String}] target column => SQL expression
    # @return [TableMerger] self
    def when_not_matched_by_source_update(updates, predicate: nil)
      add("when_not_matched_by_source_update", predicate, assignments(updates), nil)
    end

    # Delete the target rows no source row matches.
    # @return [TableMerger] self
    def when_not_matched_by_source_delete(predicate: nil)
      add("when_not_matched_by_source_delete", predicate, nil, nil)
    end

    # Run the merge and commit it; the table moves to the new version.
    # @return [Hash{Symbol=>Object}] the metrics (:num_source_rows, :num_target_rows_inserted,
    #   :num_target_rows_updated, :num_target_rows_deleted, :num_output_rows, ...)
    def execute
      @table._table.merge(
        @source,
        @predicate,
        @source_alias,
        @target_alias,
        @clauses,
        @merge_schema,
        Utils.writer_json(@writer_properties),
        Utils.commit_json(@commit_properties)
      ).transform_keys(&:to_sym)
    end

    private

    def add(kind, predicate, updates, except)
      raise ArgumentError, "predicate must be a String" unless predicate.nil? || predicate.is_a?(String)

      @clauses << [kind, predicate, updates, except && Array(except).map(&:to_s)]
      self
    end

    def assignments(updates)
      raise ArgumentError, "updates must be a Hash of column => SQL expression" unless updates.is_a?(Hash)

      updates.map { |k, v| [k.to_s, v.to_s] }
    end
  end
end
