# frozen_string_literal: true

module DeltaLake
  # The metadata of a table at the loaded version.
  class Metadata
    # @return [String] the table id
    attr_reader :id
    # @return [String, nil]
    attr_reader :name
    # @return [String, nil]
    attr_reader :description
    # @return [Array<String>]
    attr_reader :partition_columns
    # @return [Integer, nil] milliseconds since the epoch
    attr_reader :created_time
    # @return [Hash{String=>String}] the table properties
    attr_reader :configuration

    # @!visibility private
    def initialize(raw)
      @id = raw["id"]
      @name = raw["name"]
      @description = raw["description"]
      @partition_columns = raw["partition_columns"]
      @created_time = raw["created_time"]
      @configuration = raw["configuration"]
    end

    # @return [String]
    def inspect
      attributes = %i[id name description partition_columns created_time configuration]
      "#<DeltaLake::Metadata #{attributes.map { |a| "#{a}=#{send(a).inspect}" }.join(", ")}>"
    end
  end
end
