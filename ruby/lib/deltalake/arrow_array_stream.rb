# frozen_string_literal: true

module DeltaLake
  # A stream of Arrow record batches, read as it is consumed, once: in Ruby's terms with
  # {#each_batch}, {#each_row} and {#to_a}, or by an Arrow library through {#arrow_c_stream}
  # (polars-df: `Polars::DataFrame.new(stream)`; red-arrow:
  # `Arrow::RecordBatchReader.import(stream.to_i)`).
  class ArrowArrayStream
    include Enumerable

    # The C stream interface: this object, whose `to_i` is the address of an `ArrowArrayStream`
    # struct that the consumer moves out.
    # @return [ArrowArrayStream]
    def arrow_c_stream
      self
    end

    # Yield each batch's rows as an Array of Hashes.
    # @yieldparam rows [Array<Hash{String=>Object}>]
    # @return [Enumerator, nil] an Enumerator without a block
    def each_batch
      return enum_for(:each_batch) unless block_given?

      while (rows = next_rows)
        yield rows
      end
    end

    # Yield each batch's columns as a Hash of Arrays.
    # @yieldparam columns [Hash{String=>Array}]
    # @return [Enumerator, nil] an Enumerator without a block
    def each_column_batch
      return enum_for(:each_column_batch) unless block_given?

      while (columns = next_columns)
        yield columns
      end
    end

    # Yield each row as a Hash.
    # @yieldparam row [Hash{String=>Object}]
    # @return [Enumerator, nil] an Enumerator without a block
    def each_row(&block)
      return enum_for(:each_row) unless block

      each_batch { |rows| rows.each(&block) }
    end
    alias_method :each, :each_row

    # Every remaining row.
    # @return [Array<Hash{String=>Object}>]
    def to_a
      rows = []
      each_batch { |batch| rows.concat(batch) }
      rows
    end

    # A polars-df DataFrame of the stream (needs the polars-df gem).
    # @return [Polars::DataFrame]
    def to_polars
      require "polars-df"
      Polars::DataFrame.new(self)
    end
  end
end
